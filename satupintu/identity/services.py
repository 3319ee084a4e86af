"""Every write to identity: citizen registration, profile changes, officers, sign-in, API tokens."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.core import audit, ratelimit
from satupintu.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotAuthenticated, NotFound
from satupintu.core.permissions import require_authenticated

from .backends import find_user
from .models import ApiToken, CitizenProfile, Role, User
from .nik import parse_nik, validate_kk
from .phone import normalise_phone


def _collect(errors: dict, field: str, fn):
    try:
        return fn()
    except DomainError as exc:
        errors[field] = exc.message
    except ValidationError as exc:
        errors[field] = " ".join(exc.messages)
    return None


def _clean_full_name(value, errors: dict) -> str:
    full_name = (value or "").strip()
    if not full_name or len(full_name) > 150:
        errors["full_name"] = _("Nama lengkap wajib diisi (maks. 150 karakter).")
    return full_name


def _clean_email(value, errors: dict) -> str:
    """A lower-cased email, or "" when none was given; problems go to `errors`."""
    email = (value or "").strip().lower()
    if email:
        _collect(errors, "email", lambda: validate_email(email))
        if len(email) > 254:
            errors["email"] = _("Email terlalu panjang (maks. 254 karakter).")
    return email


@transaction.atomic
def citizen_register(*, actor, full_name: str, password: str, nik: str, email: str = "", phone: str = "",
                     kk_number: str = "") -> User:
    """Create a citizen account. Nothing is stored unless every field is valid and unique."""
    errors: dict[str, str] = {}
    full_name = _clean_full_name(full_name, errors)
    email = _clean_email(email, errors)
    phone_raw = (phone or "").strip()
    if not email and not phone_raw and "email" not in errors:
        errors["email"] = _("Isi email atau nomor HP untuk masuk.")
    phone_e164 = _collect(errors, "phone", lambda: normalise_phone(phone_raw)) if phone_raw else None
    facts = _collect(errors, "nik", lambda: parse_nik(nik))
    kk = _collect(errors, "kk_number", lambda: validate_kk(kk_number)) if (kk_number or "").strip() else ""
    probe = User(email=email or None, phone=phone_e164, full_name=full_name)
    _collect(errors, "password", lambda: validate_password(password or "", user=probe))
    if errors:
        raise InvalidInput(_("Data pendaftaran belum benar."), code="invalid_registration", details=errors)

    duplicates = {}
    if email and User.objects.filter(email__iexact=email).exists():
        duplicates["email"] = _("Email ini sudah terdaftar.")
    if phone_e164 and User.objects.filter(phone=phone_e164).exists():
        duplicates["phone"] = _("Nomor HP ini sudah terdaftar.")
    if CitizenProfile.objects.filter(nik=facts.nik).exists():
        duplicates["nik"] = _("NIK ini sudah punya akun. Masuk dengan akun tersebut atau hubungi petugas.")
    if duplicates:
        raise Conflict(_("Akun sudah ada."), code="duplicate_account", details=duplicates)
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email or None, password=password, phone=phone_e164,
                                            full_name=full_name, role=Role.CITIZEN)
            CitizenProfile.objects.create(user=user, nik=facts.nik, kk_number=kk or "")
    except IntegrityError:  # a concurrent registration won the race
        raise Conflict(_("Akun sudah ada."), code="duplicate_account") from None
    audit.record(actor=user, action="citizen.registered", obj=user,
                 changes={"email": bool(email), "phone": bool(phone_e164), "kk": bool(kk)})
    return user


@transaction.atomic
def citizen_register_assisted(*, actor, full_name: str, nik: str, phone: str = "", email: str = "") -> User:
    """An account opened by a front-office officer for a walk-in citizen (no password yet: the
    citizen sets one later through password reset). An existing account with the NIK is returned."""
    from satupintu.core.permissions import officer_agency_id

    require_authenticated(actor)
    if officer_agency_id(actor) is None:
        raise Forbidden(_("Hanya petugas yang boleh mendaftarkan warga di loket."), code="not_officer")
    facts = parse_nik(nik)
    existing = User.objects.filter(citizen__nik=facts.nik).first()
    if existing is not None:
        return existing
    errors: dict[str, str] = {}
    full_name = _clean_full_name(full_name, errors)
    email = _clean_email(email, errors)
    phone_e164 = _collect(errors, "phone", lambda: normalise_phone(phone)) if (phone or "").strip() else None
    if not email and not phone_e164 and "phone" not in errors:
        errors["phone"] = _("Isi nomor HP atau email warga agar ia bisa menerima kabar permohonannya.")
    if errors:
        raise InvalidInput(_("Data warga belum benar."), code="invalid_registration", details=errors)
    if (email and User.objects.filter(email__iexact=email).exists()) or (
            phone_e164 and User.objects.filter(phone=phone_e164).exists()):
        raise Conflict(_("Email atau nomor HP ini sudah dipakai akun lain dengan NIK berbeda."), code="duplicate_account")
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email or None, password=None, phone=phone_e164, full_name=full_name,
                                            role=Role.CITIZEN)
            CitizenProfile.objects.create(user=user, nik=facts.nik)
    except IntegrityError:  # another counter registered the same person a moment ago
        raise Conflict(_("Akun warga ini baru saja dibuat di loket lain; coba lagi."), code="duplicate_account") from None
    audit.record(actor=actor, action="citizen.registered_assisted", obj=user,
                 changes={"email": bool(email), "phone": bool(phone_e164)})
    return user


@transaction.atomic
def citizen_profile_update(*, actor, full_name: str | None = None, kk_number: str | None = None) -> User:
    require_authenticated(actor)
    errors: dict[str, str] = {}
    changes = {}
    if full_name is not None:
        changes["full_name"] = _clean_full_name(full_name, errors)
    if kk_number is not None:
        changes["kk_number"] = _collect(errors, "kk_number", lambda: validate_kk(kk_number)) if kk_number.strip() else ""
    if errors:
        raise InvalidInput(_("Data profil belum benar."), code="invalid_profile", details=errors)
    user = User.objects.select_for_update(no_key=True).get(pk=actor.pk)
    if "full_name" in changes:
        user.full_name = changes["full_name"]
        user.save(update_fields=["full_name"])
    if "kk_number" in changes:
        CitizenProfile.objects.filter(user=user).update(kk_number=changes["kk_number"])
    audit.record(actor=actor, action="citizen.profile_updated", obj=user, changes={"fields": sorted(changes)})
    return user


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_issue(*, actor) -> tuple[ApiToken, str]:
    """A new bearer token for an authenticated user; the plain key is returned only here."""
    require_authenticated(actor)
    key = "sp_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=actor, key_hash=_hash(key), prefix=key[3:11],
        expires_at=timezone.now() + timedelta(days=settings.SATUPINTU_API_TOKEN_DAYS),
    )
    audit.record(actor=actor, action="auth.token_issued", obj=actor, changes={"token": token.prefix, "officer": actor.is_officer})
    return token, key


@transaction.atomic
def api_token_revoke(*, actor, key: str) -> None:
    require_authenticated(actor)
    deleted, _n = ApiToken.objects.filter(user=actor, key_hash=_hash(key)).delete()
    if deleted:
        audit.record(actor=actor, action="auth.token_revoked", obj=actor, changes={"token": key[3:11]})


def hash_key(key: str) -> str:
    return _hash(key)


# What an agency admin may give and manage: the working roles. Heads (who sign permits) and agency
# admins are appointed and changed by the mall administrator, so that no agency admin can make
# themself a second signer or take over a peer admin's account.
AGENCY_ADMIN_ASSIGNS = frozenset({Role.FRONT_OFFICE, Role.VERIFIER, Role.TECHNICAL_REVIEWER})


def _require_staff_manager(actor, agency_id: int | None, *roles: str) -> None:
    """Officers of an agency in the working roles are managed by its agency admin and by the mall
    administrator; heads, agency admins and mall administrators by the mall administrator only.
    `roles`: the officer's role now and the one given."""
    from satupintu.core.permissions import is_mall_admin, require_mall_admin, require_manage_agency

    if agency_id is None:
        require_mall_admin(actor)
        return
    require_manage_agency(actor, agency_id, _("Anda hanya boleh mengelola petugas instansi Anda sendiri."),
                          code="foreign_agency")
    if not is_mall_admin(actor) and any(r not in AGENCY_ADMIN_ASSIGNS for r in roles if r in Role.values):
        raise Forbidden(_("Kepala instansi dan admin instansi diangkat dan diubah oleh pengelola MPP."),
                        code="role_reserved")


def _is_staff(role: str) -> bool:
    """Reaches the (scoped) admin site."""
    return role in (Role.MALL_ADMIN, Role.AGENCY_ADMIN)


def require_manage_officer(actor, officer: User) -> None:
    """The actor may change `officer` (403 with the reason otherwise)."""
    require_authenticated(actor)
    _require_staff_manager(actor, officer.agency_id, officer.role)


def can_manage_officer(actor, officer: User) -> bool:
    try:
        require_manage_officer(actor, officer)
    except DomainError:
        return False
    return True


@transaction.atomic
def officer_create(*, actor, email: str, full_name: str, role: str, password: str, agency=None) -> User:
    """An officer of one agency in a working role (by its agency admin or the mall administrator),
    a head or agency admin of one agency, or another mall administrator (by the mall administrator).
    An agency admin who names no agency adds to their own."""
    require_authenticated(actor)
    if agency is None and actor.role == Role.AGENCY_ADMIN:
        agency = actor.agency
    _require_staff_manager(actor, agency.pk if agency is not None else None, role)
    errors: dict[str, str] = {}
    email = _clean_email(email, errors)
    if not email and "email" not in errors:
        errors["email"] = _("Email wajib diisi.")
    full_name = _clean_full_name(full_name, errors)
    if role not in Role.values or role == Role.CITIZEN:
        errors["role"] = _("Peran petugas tidak dikenal.")
    elif (role == Role.MALL_ADMIN) != (agency is None):
        errors["agency"] = _("Petugas instansi wajib punya instansi; pengelola MPP tidak.")
    probe = User(email=email, full_name=full_name)
    _collect(errors, "password", lambda: validate_password(password or "", user=probe))
    if errors:
        raise InvalidInput(_("Data petugas belum benar."), code="invalid_officer", details=errors)
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(_("Email ini sudah terdaftar."), code="duplicate_account")
    user = User.objects.create_user(
        email=email, password=password, full_name=full_name, role=role, agency=agency,
        is_staff=_is_staff(role),
    )
    audit.record(actor=actor, action="officer.created", obj=user, changes={"role": role, "agency": agency.slug if agency else None})
    return user


@transaction.atomic
def officer_update(*, actor, officer: User, full_name: str | None = None, role: str | None = None,
                   is_active: bool | None = None) -> tuple[User, int]:
    """Rename an officer, give them another role in their agency, or deactivate (or reactivate)
    their account: by their agency's admin (officers in the working roles) or the mall
    administrator (anyone). Nobody changes their own role or deactivates themself.
    A deactivated officer can no longer sign in, their sessions end at their next request and
    their API tokens are deleted and the counters they have open are closed
    (`queueing.services.officer_counters_close`). Deactivated or given another role, the stages
    they had claimed are released (`cases.services.officer_claims_release`). A change that
    changes nothing writes nothing. Returns the officer and how many stages were released."""
    from satupintu.cases.services import officer_claims_release
    from satupintu.queueing.services import officer_counters_close

    require_authenticated(actor)
    # no_key: a decision of this officer running at the same time (its `decided_by` takes a key
    # share of this row) neither waits for this lock nor deadlocks with the claims' release
    officer = (User.objects.select_for_update(no_key=True, of=("self",)).select_related("agency")
               .filter(pk=officer.pk).exclude(role=Role.CITIZEN).first())
    if officer is None:
        raise NotFound(_("Petugas tidak ditemukan."), code="officer_not_found")
    _require_staff_manager(actor, officer.agency_id, officer.role, *([role] if role else []))
    errors: dict[str, str] = {}
    changes: dict[str, dict] = {}
    if full_name is not None:
        name = _clean_full_name(full_name, errors)
        if "full_name" not in errors and name != officer.full_name:
            changes["full_name"] = {"from": officer.full_name, "to": name}
    if role is not None and role != officer.role:
        if role not in Role.values or role == Role.CITIZEN:
            errors["role"] = _("Peran petugas tidak dikenal.")
        elif (role == Role.MALL_ADMIN) != (officer.agency_id is None):
            errors["role"] = _("Pengelola MPP tetap pengelola MPP; petugas instansi tetap di instansinya.")
        else:
            changes["role"] = {"from": officer.role, "to": role}
    if is_active is not None and bool(is_active) != officer.is_active:
        changes["is_active"] = {"from": officer.is_active, "to": bool(is_active)}
    if errors:
        raise InvalidInput(_("Data petugas belum benar."), code="invalid_officer", details=errors)
    if officer.pk == actor.pk and ("role" in changes or "is_active" in changes):
        raise Forbidden(_("Anda tidak bisa mengubah peran atau menonaktifkan akun Anda sendiri."), code="own_account")
    if not changes:
        return officer, 0
    for field, change in changes.items():
        setattr(officer, field, change["to"])
    officer.is_staff = _is_staff(officer.role)
    officer.save(update_fields=[*changes, "is_staff"])
    released = closed = 0
    if changes.get("is_active", {}).get("to") is False:
        ApiToken.objects.filter(user=officer).delete()
        closed = officer_counters_close(actor=actor, officer=officer, why="officer_deactivated")
    if "role" in changes or changes.get("is_active", {}).get("to") is False:
        released = officer_claims_release(actor=actor, officer=officer,
                                          why="officer_deactivated" if not officer.is_active else "officer_role_changed")
    audit.record(actor=actor, action="officer.updated", obj=officer,
                 changes={**changes, "agency": officer.agency.slug if officer.agency_id else None, "released": released,
                          **({"counters_closed": closed} if closed else {})})
    return officer, released


# ---------------------------------------------------------------------------- passwords

PASSWORD_CHANGE_FAILURES = 5  # wrong current passwords per account per 15 minutes
RESET_PER_ADDRESS = 10  # reset e-mails asked for per client address per hour
RESET_PER_EMAIL = 3  # and per e-mail address per hour
RESET_NIK_FAILURES = 5  # wrong NIKs per account per hour when a counter-opened account sets its first password


def password_change(*, actor, current_password: str, new_password: str, keep_token: str | None = None) -> int:
    """The signed-in person replaces their password, giving the current one. Their other
    sessions end (Django's session hash follows the password) and their API tokens are deleted
    but `keep_token` (the one the API call came with). Wrong current passwords are counted
    (PASSWORD_CHANGE_FAILURES per 15 minutes, then 429). Returns the tokens deleted."""
    require_authenticated(actor)
    key = f"password-change:{actor.pk}"
    ratelimit.ensure_allowed(key, limit=PASSWORD_CHANGE_FAILURES, window_seconds=900)
    user = User.objects.get(pk=actor.pk)
    errors: dict[str, str] = {}
    if not user.check_password(current_password or ""):
        ratelimit.hit(key, window_seconds=900)  # outside any transaction: the count stays
        errors["current_password"] = _("Kata sandi sekarang tidak cocok.")
    _collect(errors, "new_password", lambda: validate_password(new_password or "", user=user))
    if errors:
        raise InvalidInput(_("Kata sandi belum diganti."), code="invalid_password", details=errors)
    with transaction.atomic():
        user = User.objects.select_for_update(no_key=True).get(pk=actor.pk)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        tokens = ApiToken.objects.filter(user=user)
        if keep_token:
            tokens = tokens.exclude(key_hash=_hash(keep_token))
        deleted, _n = tokens.delete()
        audit.record(actor=user, action="auth.password_changed", obj=user, changes={"tokens_deleted": deleted})
    ratelimit.reset(key)
    return deleted


def password_reset_request(*, email: str, ip: str) -> None:
    """Queue the e-mail with a link to set a new password for the account with `email`, if there
    is one (`tasks.send_password_reset`): the answer, and the time it takes, are the same either
    way, so nobody learns which addresses have accounts. Accounts opened at a counter, which have
    no password yet, get one too: that is how their owner sets one (`ResetSetPasswordForm` then
    asks for the NIK as well). Limited per client address and per e-mail address (429)."""
    from django.utils.translation import get_language

    from .forms import ResetRequestForm
    from .tasks import send_password_reset

    ratelimit.check(f"password-reset:{ip}", limit=RESET_PER_ADDRESS, window_seconds=3600)
    form = ResetRequestForm({"email": email})
    if not form.is_valid():
        raise InvalidInput(_("Isi alamat email yang valid."), code="invalid_email", details={"email": form.errors["email"][0]})
    address = form.cleaned_data["email"]
    ratelimit.check(f"password-reset-email:{address.lower()}", limit=RESET_PER_EMAIL, window_seconds=3600)
    send_password_reset.enqueue(address, get_language() or settings.LANGUAGE_CODE, ip)


def password_reset_send(*, email: str, language: str, ip: str = "") -> int:
    """The reset e-mail itself (the task's body): Django's token, made now, in a link on
    SATUPINTU_PUBLIC_URL (never on the Host header of the request that asked). Good for
    PASSWORD_RESET_TIMEOUT, and only until the password changes or the person signs in. Each
    e-mail that left gets an `auth.password_reset_sent` audit entry on its account, with the
    client address that asked (none for a task queued before the address was passed); a failed
    send is raised (the task fails) and audited for nobody; a request for an address without an
    active account leaves no entry (it names nobody, and the log keeps no addresses that are not
    on file)."""
    from urllib.parse import urlsplit

    from django.utils import translation

    from .forms import ResetRequestForm

    public = urlsplit(settings.SATUPINTU_PUBLIC_URL)
    form = ResetRequestForm({"email": email})
    if not form.is_valid():
        return 0
    try:
        with translation.override(language):
            form.save(domain_override=public.netloc, use_https=public.scheme == "https",
                      subject_template_name="identity/password_reset_subject.txt",
                      email_template_name="identity/password_reset_email.txt")
    finally:  # the e-mails that left before a failed one are audited too
        if form.sent_to:
            with transaction.atomic():
                for user in form.sent_to:
                    audit.record(actor=None, action="auth.password_reset_sent", obj=user,
                                 changes={"ip": ip} if ip else {})
    return len(form.sent_to)


@transaction.atomic
def password_reset_complete(*, user: User, new_password: str) -> None:
    """The new password from a valid reset link (checked by Django's token, and by the validators
    in the form). Every API token of the account is deleted; sessions end with the old password."""
    errors: dict[str, str] = {}
    _collect(errors, "new_password", lambda: validate_password(new_password or "", user=user))
    if errors:
        raise InvalidInput(_("Kata sandi belum diganti."), code="invalid_password", details=errors)
    user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    if not user.is_active:  # a link e-mailed before the account was deactivated
        raise Forbidden(_("Akun ini tidak aktif."), code="account_inactive")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    deleted, _n = ApiToken.objects.filter(user=user).delete()
    audit.record(actor=user, action="auth.password_reset", obj=user, changes={"tokens_deleted": deleted})


SIGN_IN_CHANNELS = ("web", "api")


def _sign_in_limits(identifier: str, ip: str) -> list[tuple[str, int]]:
    """(rate-limit key, failures allowed): per account and address, and per address alone."""
    ident = (identifier or "").strip().lower()
    if ident and "@" not in ident:
        ident = normalise_phone(ident, strict=False) or ident  # 0812…, +62 812… count as one
    return [
        (f"login:{ident}:{ip}", settings.SATUPINTU_LOGIN_FAILURES_PER_ACCOUNT),
        (f"login-ip:{ip}", settings.SATUPINTU_LOGIN_FAILURES_PER_IP),
    ]


def _sign_ins_audited(user) -> bool:
    """Officers and the mall administrator act for the state: their sign-ins are on record."""
    return user.role != Role.CITIZEN or user.is_superuser or user.is_staff


def user_sign_in(*, identifier: str, password: str, channel: str, ip: str) -> User:
    """Check a password sign-in (page or API) under the failed-attempt limits.

    No actor: nobody is signed in yet; the account found is the actor of the audit entries.
    Raises RateLimited (429) once the failures of this account from this address (or of this
    address overall) reach the limit within the window, NotAuthenticated on wrong credentials.
    Not one transaction: the counted failure and its audit entry must outlive the refusal.
    """
    if channel not in SIGN_IN_CHANNELS:
        raise ValueError(f"unknown sign-in channel {channel!r}")
    window = settings.SATUPINTU_LOGIN_FAILURE_WINDOW_SECONDS
    limits = _sign_in_limits(identifier, ip)
    for key, limit in limits:
        ratelimit.ensure_allowed(key, limit=limit, window_seconds=window)
    user = authenticate(None, username=identifier, password=password)
    if user is None:
        for key, _limit in limits:
            ratelimit.hit(key, window_seconds=window)
        target = find_user(identifier)
        if target is not None and _sign_ins_audited(target):
            login_failure_record(account=target, channel=channel, ip=ip)
        raise NotAuthenticated(_("Email/nomor HP atau kata sandi salah."), code="invalid_credentials")
    ratelimit.reset(limits[0][0])
    if _sign_ins_audited(user):
        session_login_record(actor=user, channel=channel, ip=ip)
    return user


@transaction.atomic
def session_login_record(*, actor, channel: str, ip: str) -> None:
    """An officer or the mall administrator signed in (page session or API token)."""
    audit.record(actor=actor, action="auth.login", obj=actor, changes={"channel": channel, "ip": ip, "role": actor.role})


@transaction.atomic
def login_failure_record(*, account, channel: str, ip: str) -> None:
    """A failed sign-in to an officer's account (no password material is kept)."""
    audit.record(actor=None, action="auth.login_failed", obj=account,
                 changes={"channel": channel, "ip": ip, "active": account.is_active})
