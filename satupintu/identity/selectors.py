"""Reads of identity, scoped to the actor: a person sees their own account only."""

from django.utils import timezone

from satupintu.core.permissions import require_authenticated

from .models import ApiToken, User
from .services import hash_key


def user_me(*, actor) -> User:
    require_authenticated(actor)
    return User.objects.select_related("citizen", "agency").get(pk=actor.pk)


def user_for_token(key: str) -> User | None:
    if not key or not key.startswith("sp_") or len(key) > 100:
        return None
    tokens = (
        ApiToken.objects.select_related("user__citizen")  # a citizen's writes need the profile
        .filter(key_hash=hash_key(key), expires_at__gt=timezone.now(), user__is_active=True)[:1]  # unique: no order
    )
    return next((token.user for token in tokens), None)
