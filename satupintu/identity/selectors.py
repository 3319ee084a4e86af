"""Reads of identity, scoped to the actor: a person sees their own account; agency admins and
the mall administrator see the officers they manage."""

import uuid as uuidlib

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.core import revisions
from satupintu.core.errors import Forbidden, InvalidInput, NotFound
from satupintu.core.permissions import is_mall_admin, officer_agency_id, require_authenticated

from .models import ApiToken, Role, User
from .services import hash_key


def user_me(*, actor) -> User:
    require_authenticated(actor)
    return User.objects.select_related("citizen", "agency").get(pk=actor.pk)


# This process's copies of the users of API tokens, by token digest: (user with citizen profile,
# expiry). Checked against the identity revision, which every write to users, citizen profiles
# and tokens changes (`core.revisions`).
_token_users = revisions.ProcessCopies(revisions.IDENTITY)
# The active officers of (agency, role) pairs, by the set of pairs asked for.
_officers = revisions.ProcessCopies(revisions.IDENTITY)


def user_for_token(key: str) -> User | None:
    """The active user of an unexpired API token (the caller's own copy), or None."""
    if not key or not key.startswith("sp_") or len(key) > 100:
        return None
    digest = hash_key(key)
    held = _token_users.read_with_token(digest, lambda: _token_user(digest))
    if held is None or held[1] <= timezone.now():
        return None
    return revisions.copy_user(held[0])


def _token_user(digest: str):
    """(revision token, (user, expiry)); (None, None) for no usable token (nothing to keep it
    under: the next use reads again)."""
    tokens = (ApiToken.objects.select_related("user__citizen")  # a citizen's writes need the profile
              .annotate(revision=revisions.token_of(revisions.IDENTITY))
              .filter(key_hash=digest, user__is_active=True)[:1])  # unique: no order
    return next(((token.revision, (token.user, token.expires_at)) for token in tokens), (None, None))


def officers_to_notify(pairs) -> list[User]:
    """The active officers of each (agency id, role) in `pairs`, with what a notification needs
    of them (read-only: shared by this process's threads)."""
    wanted = frozenset(pairs)
    if not wanted:
        return []
    return list(_officers.read(wanted, lambda: _active_officers(wanted)))


def _active_officers(wanted: frozenset) -> tuple[User, ...]:
    users = (User.objects.filter(is_active=True, agency_id__in={a for a, _r in wanted}, role__in={r for _a, r in wanted})
             .only("pk", "email", "is_active", "agency_id", "role").order_by("pk"))
    return tuple(u for u in users if (u.agency_id, u.role) in wanted)


def officer_list(*, actor, agency=None, role: str | None = None, active: bool | None = None, q: str = ""):
    """The officers the actor manages, by agency then name: every officer and mall administrator
    for the mall administrator (optionally of one `agency`), their own agency's for an agency
    admin; anyone else is refused. `q` matches name or email."""
    require_authenticated(actor)
    qs = User.objects.exclude(role=Role.CITIZEN).select_related("agency")
    if is_mall_admin(actor):
        if agency is not None:
            qs = qs.filter(agency=agency)
    elif actor.role == Role.AGENCY_ADMIN and officer_agency_id(actor) is not None:
        if agency is not None and agency.pk != actor.agency_id:
            raise Forbidden(_("Anda hanya boleh mengelola petugas instansi Anda sendiri."), code="foreign_agency")
        qs = qs.filter(agency_id=actor.agency_id)
    else:
        raise Forbidden(_("Hanya admin instansi dan pengelola MPP yang mengelola petugas."), code="not_staff_manager")
    if role:
        if role not in Role.values or role == Role.CITIZEN:
            raise InvalidInput(_("Peran petugas tidak dikenal."), code="invalid_role")
        qs = qs.filter(role=role)
    if active is not None:
        qs = qs.filter(is_active=active)
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(full_name__icontains=q) | Q(email__icontains=q))
    return qs.order_by("agency__position", "agency__name", "full_name", "id")


def officer_get(*, actor, uuid) -> User:
    """One officer the actor manages; anyone else's is "not found"."""
    try:
        key = uuidlib.UUID(str(uuid))
    except ValueError:
        raise NotFound(_("Petugas tidak ditemukan."), code="officer_not_found") from None
    officer = officer_list(actor=actor).filter(uuid=key).first()
    if officer is None:
        raise NotFound(_("Petugas tidak ditemukan."), code="officer_not_found")
    return officer


def agency_named(*, actor, key: str | None):
    """The agency a staff request names (slug or UUID), as the actor may see it; None if none is named."""
    if not key:
        return None
    from satupintu.catalog.selectors import agency_get

    return agency_get(actor=actor, key=key)
