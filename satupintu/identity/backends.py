from django.contrib.auth.backends import ModelBackend

from .models import User
from .phone import normalise_phone


def find_user(identifier: str) -> User | None:
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    if "@" in identifier:
        return User.objects.filter(email__iexact=identifier).first()
    phone = normalise_phone(identifier, strict=False)
    return User.objects.filter(phone=phone).first() if phone else None


class EmailOrPhoneBackend(ModelBackend):
    """Sign in with an email address or a +62 phone number and a password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = find_user(username or kwargs.get("email") or "")
        if user is None:
            User().set_password(password)  # same cost as a real check: no user enumeration by timing
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
