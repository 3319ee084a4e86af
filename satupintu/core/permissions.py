"""Who may do what. Services call `require_*`; selectors use the predicates to scope reads.

An officer acts only within their own agency and role; the mall administrator sees everything;
a citizen only their own data; the public only what is published.
"""

from django.utils.translation import gettext as _

from .errors import Forbidden, NotAuthenticated

MALL_ADMIN = "mall_admin"
AGENCY_ADMIN = "agency_admin"
HEAD = "head"
OFFICER_ROLES = frozenset({"front_office", "verifier", "technical_reviewer", "head", "agency_admin"})


def is_authenticated(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and actor.is_active


def is_mall_admin(actor) -> bool:
    return is_authenticated(actor) and (actor.role == MALL_ADMIN or actor.is_superuser)


def officer_agency_id(actor) -> int | None:
    """The agency an officer works for, or None for anyone else."""
    if is_authenticated(actor) and actor.role in OFFICER_ROLES:
        return actor.agency_id
    return None


def can_manage_agency(actor, agency_id: int) -> bool:
    """Maintain an agency's catalogue entries (services, drafts, counters)."""
    if is_mall_admin(actor):
        return True
    return is_authenticated(actor) and actor.role == AGENCY_ADMIN and actor.agency_id == agency_id


def can_supervise_agency(actor, agency_id: int) -> bool:
    """Oversee an agency's work on applications (release a stage another officer claimed): the
    agency's head and agency admin, and the mall administrator."""
    if is_mall_admin(actor):
        return True
    return officer_agency_id(actor) == agency_id and actor.role in (HEAD, AGENCY_ADMIN)


def can_read_agency_internals(actor, agency_id: int) -> bool:
    """See an agency's unpublished drafts."""
    return is_mall_admin(actor) or officer_agency_id(actor) == agency_id


def require_authenticated(actor) -> None:
    if not is_authenticated(actor):
        raise NotAuthenticated(_("Silakan masuk terlebih dahulu."))


def require_mall_admin(actor) -> None:
    require_authenticated(actor)
    if not is_mall_admin(actor):
        raise Forbidden(_("Hanya pengelola MPP yang boleh melakukan ini."))


def require_manage_agency(actor, agency_id: int, message: str | None = None, code: str | None = None) -> None:
    """`message`/`code`: what the refusal says about the thing managed (default: services)."""
    require_authenticated(actor)
    if not can_manage_agency(actor, agency_id):
        raise Forbidden(message or _("Anda hanya boleh mengelola layanan instansi Anda sendiri."), code=code)


class SystemActor:
    """An operator's command (e.g. loading a profile): acts as the mall administrator and is
    recorded in the audit log by name, but has no account and cannot sign in."""

    pk = None
    is_authenticated = True
    is_active = True
    is_superuser = True
    role = MALL_ADMIN
    agency_id = None

    def __init__(self, name: str):
        self.name = name

    def get_username(self) -> str:
        return f"system:{self.name}"
