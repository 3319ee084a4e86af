from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.mail import EmailMultiAlternatives
from django.template import loader
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RegisterForm(forms.Form):
    full_name = forms.CharField(label=_("Nama lengkap (sesuai KTP)"), max_length=150)
    nik = forms.CharField(label=_("NIK (16 digit)"), max_length=32,
                          widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    kk_number = forms.CharField(label=_("Nomor KK (opsional)"), max_length=32, required=False,
                                widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    email = forms.CharField(label=_("Email"), max_length=254, required=False,
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(label=_("Nomor HP"), max_length=32, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
                            help_text=_("Isi email atau nomor HP (atau keduanya) untuk masuk."))
    password = forms.CharField(label=_("Kata sandi"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=_("Minimal 8 karakter, jangan hanya angka."))


class LoginForm(AuthenticationForm):
    """Signs in through `services.user_sign_in` (failed-attempt limit, officers' audit entries);
    a RateLimited error passes through to the page error handler (429 + Retry-After)."""

    username = forms.CharField(label=_("Email atau nomor HP"), max_length=254,
                               widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}))
    password = forms.CharField(label=_("Kata sandi"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    error_messages = {
        "invalid_login": _("Email/nomor HP atau kata sandi salah."),
        "inactive": _("Akun ini tidak aktif."),
    }

    def clean(self):
        from satupintu.core.errors import NotAuthenticated
        from satupintu.core.http import client_ip

        from .services import user_sign_in

        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = user_sign_in(identifier=username, password=password, channel="web",
                                               ip=client_ip(self.request))
            except NotAuthenticated:
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Nama lengkap"), max_length=150)
    kk_number = forms.CharField(label=_("Nomor KK (opsional)"), max_length=32, required=False)



def officer_role_choices(*, mall_admin: bool):
    """The roles the actor may give: every officer role and the mall administrator's for the
    mall administrator; the working roles (`services.AGENCY_ADMIN_ASSIGNS`) for an agency admin."""
    from .models import OFFICER_ROLES, Role
    from .services import AGENCY_ADMIN_ASSIGNS

    allowed = set(OFFICER_ROLES) | {Role.MALL_ADMIN} if mall_admin else AGENCY_ADMIN_ASSIGNS
    return [(r.value, r.label) for r in Role if r in allowed]


class OfficerCreateForm(forms.Form):
    """A new officer. The mall administrator picks the agency (none for another mall
    administrator); an agency admin adds to their own agency, so the field is left out."""

    full_name = forms.CharField(label=_("Nama lengkap"), max_length=150)
    email = forms.CharField(label=_("Email (untuk masuk)"), max_length=254,
                            widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(label=_("Peran"))
    agency = forms.ChoiceField(label=pgettext_lazy("satu instansi", "Instansi"), required=False,
                               help_text=_("Kosongkan hanya untuk pengelola MPP."))
    password = forms.CharField(label=_("Kata sandi awal"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=_("Sampaikan kepada petugas secara langsung; minta ia menggantinya."))

    def __init__(self, *args, agencies=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = officer_role_choices(mall_admin=agencies is not None)
        if agencies is None:
            del self.fields["agency"]
        else:
            self.fields["agency"].choices = [("", _("— pengelola MPP, tanpa instansi —"))] + [
                (a.slug, a.short_name) for a in agencies]


class OfficerEditForm(forms.Form):
    full_name = forms.CharField(label=_("Nama lengkap"), max_length=150)
    role = forms.ChoiceField(label=_("Peran"))
    is_active = forms.TypedChoiceField(
        label=_("Status akun"), coerce=lambda v: v == "1", widget=forms.RadioSelect,
        choices=[("1", _("Aktif: bisa masuk dan bekerja")),
                 ("0", _("Nonaktif: tidak bisa masuk; tahap yang diambilnya dilepas"))])

    def __init__(self, *args, officer, own: bool, mall_admin: bool, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import Role

        self.fields["role"].choices = ([(Role.MALL_ADMIN.value, Role.MALL_ADMIN.label)] if officer.agency_id is None
                                       else [c for c in officer_role_choices(mall_admin=mall_admin) if c[0] != Role.MALL_ADMIN])
        if own:  # nobody changes their own role or deactivates themself (the service refuses it too)
            for name in ("role", "is_active"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Akun Anda sendiri: peran dan status diubah oleh pengelola lain.")


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(label=_("Kata sandi sekarang"), strip=False,
                                       widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password = forms.CharField(label=_("Kata sandi baru"), strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                   help_text=_("Minimal 8 karakter, jangan hanya angka."))
    new_password_again = forms.CharField(label=_("Ulangi kata sandi baru"), strip=False,
                                         widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password_again") and data["new_password"] != data["new_password_again"]:
            self.add_error("new_password_again", _("Kedua kata sandi baru tidak sama."))
        return data


class ResetRequestForm(PasswordResetForm):
    """Django's reset request, for accounts opened at a counter too: they have no password yet
    (unusable), and a reset link is how their owner sets one. Inactive accounts get none."""

    email = forms.EmailField(label=_("Email akun Anda"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    def get_users(self, email):
        from .models import User

        return (u for u in User.objects.filter(email__iexact=email, is_active=True) if u.email.lower() == email.lower())

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        """Django's (6.1, `PasswordResetForm.send_mail`), except that a failed send is raised
        (Django logs it and goes on, so the task would count, and the audit log record, an e-mail
        that never left) and each account whose e-mail did leave is listed in `sent_to`."""
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        message = EmailMultiAlternatives(subject, loader.render_to_string(email_template_name, context), from_email,
                                         [to_email])
        if html_email_template_name is not None:
            message.attach_alternative(loader.render_to_string(html_email_template_name, context), "text/html")
        message.send()
        self.sent_to.append(context["user"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent_to = []  # the accounts e-mailed by `save`


class ResetSetPasswordForm(SetPasswordForm):
    """Django's new-password form from a reset link, saved through `services.password_reset_complete`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("Kata sandi baru")  # the words of our other password forms
        self.fields["new_password1"].help_text = _("Minimal 8 karakter, jangan hanya angka.")
        self.fields["new_password2"].label = _("Ulangi kata sandi baru")
        # An account opened at a counter never had a password, and nobody confirmed the e-mail
        # address typed there: its first password also takes the owner's NIK, which a stranger
        # who got the link by a typo does not know (wrong NIKs are limited, RESET_NIK_FAILURES).
        self.first_password = self.user is not None and not self.user.has_usable_password()
        if self.first_password:
            self.fields["nik"] = forms.CharField(
                label=_("NIK Anda (16 digit)"), max_length=32,
                widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
                help_text=_("Akun ini dibuat petugas di loket: isi NIK pemiliknya untuk membuat kata sandi pertama."))

    def clean_nik(self):
        from satupintu.core import ratelimit

        from .services import RESET_NIK_FAILURES

        key = f"reset-nik:{self.user.pk}"
        ratelimit.ensure_allowed(key, limit=RESET_NIK_FAILURES, window_seconds=3600)
        nik = "".join(ch for ch in self.cleaned_data["nik"] if ch.isdigit())
        citizen = getattr(self.user, "citizen", None)
        if citizen is None or nik != citizen.nik:
            ratelimit.hit(key, window_seconds=3600)
            raise forms.ValidationError(_("NIK tidak cocok dengan akun ini."))
        return nik

    def save(self, commit=True):
        from .services import password_reset_complete

        password_reset_complete(user=self.user, new_password=self.cleaned_data["new_password1"])
        self.user.refresh_from_db()
        return self.user
