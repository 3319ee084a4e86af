from datetime import date, datetime
from uuid import UUID

from django.utils.translation import gettext as _
from ninja.responses import Status
from ninja import Field, Router, Schema

from satupintu.config.api import actor_of, bearer_key
from satupintu.core.errors import NotAuthenticated
from satupintu.core.http import client_ip
from satupintu.core.pagination import page_body, paginate

from . import selectors, services

router = Router(tags=["auth"])
officers_router = Router(tags=["officers"])


class RegisterIn(Schema):
    full_name: str
    password: str
    nik: str
    email: str = ""
    phone: str = ""
    kk_number: str = ""


class NikFactsOut(Schema):
    sex: str
    birth_date: date
    district_code: str
    district: str
    regency_code: str
    regency: str
    province_code: str
    province: str


class CitizenOut(Schema):
    nik_masked: str
    kk_number: str
    facts: NikFactsOut


class AgencyRef(Schema):
    uuid: UUID
    slug: str
    short_name: str


class MeOut(Schema):
    uuid: UUID
    full_name: str
    email: str | None
    phone: str | None
    role: str
    agency: AgencyRef | None
    citizen: CitizenOut | None


class LoginIn(Schema):
    username: str  # email or phone number
    password: str


class TokenOut(Schema):
    token: str
    expires_at: datetime
    user: MeOut


def me_out(user) -> dict:
    citizen = getattr(user, "citizen", None)
    return {
        "uuid": user.uuid, "full_name": user.full_name, "email": user.email, "phone": user.phone,
        "role": user.role, "agency": user.agency,
        "citizen": {
            "nik_masked": citizen.nik[:6] + "••••••" + citizen.nik[-4:],
            "kk_number": citizen.kk_number,
            "facts": citizen.facts.as_dict(),
        } if citizen else None,
    }


@router.post("/register", response={201: MeOut}, auth=None, summary="Create a citizen account")
def register(request, payload: RegisterIn):
    user = services.citizen_register(actor=None, **payload.dict())
    return Status(201, me_out(selectors.user_me(actor=user)))


@router.post("/login", response=TokenOut, auth=None, summary="Exchange email/phone + password for a bearer token",
             description="Too many failed attempts answer 429 `rate_limited` with a `Retry-After` header.")
def login(request, payload: LoginIn):
    user = services.user_sign_in(identifier=payload.username, password=payload.password, channel="api",
                                 ip=client_ip(request))
    token, key = services.api_token_issue(actor=user)
    return {"token": key, "expires_at": token.expires_at, "user": me_out(selectors.user_me(actor=user))}


@router.post("/logout", response={204: None}, summary="Revoke the bearer token used for this call")
def logout(request):
    actor, key = actor_of(request), bearer_key(request)
    if key is not None:
        services.api_token_revoke(actor=actor, key=key)
    elif not actor.is_authenticated:
        raise NotAuthenticated(_("Silakan masuk terlebih dahulu."))
    return Status(204, None)


class PasswordIn(Schema):
    current_password: str
    new_password: str


class PasswordResetIn(Schema):
    email: str


class AcceptedOut(Schema):
    detail: str


@router.post("/password", response={204: None}, summary="Change the signed-in account's password",
             description="Other sessions end and every other API token of the account is deleted; the token of this "
                         "call keeps working. Wrong current passwords: 400, then 429 after 5 in 15 minutes.")
def password_change(request, payload: PasswordIn):
    bearer = bearer_key(request)
    actor = actor_of(request)
    services.password_change(actor=actor, current_password=payload.current_password,
                             new_password=payload.new_password, keep_token=bearer)
    if bearer is None:  # called from a browser session: that session stays, as on the page
        from django.contrib.auth import update_session_auth_hash

        actor.refresh_from_db()
        update_session_auth_hash(request, actor)
    return Status(204, None)


@router.post("/password-reset", response={202: AcceptedOut}, auth=None,
             summary="E-mail a link to set a new password (the same answer whether or not the address has an account)")
def password_reset(request, payload: PasswordResetIn):
    services.password_reset_request(email=payload.email, ip=client_ip(request))
    return Status(202, {"detail": _("Jika alamat itu terdaftar, tautan untuk membuat kata sandi baru sudah dikirim.")})


@router.get("/me", response=MeOut, summary="The signed-in account")
def me(request):
    return me_out(selectors.user_me(actor=actor_of(request)))


# ---------------------------------------------------------------------------- officers

class OfficerOut(Schema):
    uuid: UUID
    full_name: str
    email: str | None
    phone: str | None
    role: str
    role_label: str = Field(..., description="the role in the caller's language")
    agency: AgencyRef | None = Field(None, description="none for a mall administrator")
    is_active: bool
    date_joined: datetime
    last_login: datetime | None

    @staticmethod
    def resolve_role_label(obj) -> str:
        return str(obj.get_role_display())


class OfficerChangedOut(OfficerOut):
    released: int = Field(..., description="running stages the officer held that this change released")


class OfficerPage(Schema):
    count: int
    page: int
    page_size: int
    pages: int
    results: list[OfficerOut]


class OfficerIn(Schema):
    email: str
    full_name: str
    role: str = Field(..., description="front_office, verifier or technical_reviewer; head, agency_admin and "
                                       "mall_admin by the mall administrator only (403 role_reserved)")
    password: str = Field(..., description="the first password; the officer should change it")
    agency: str | None = Field(None, description="slug or UUID; default: the agency admin's own (none for mall_admin)")


class OfficerPatch(Schema):
    full_name: str | None = None
    role: str | None = Field(None, description="another role in the same agency")
    is_active: bool | None = Field(None, description="false: the account can no longer sign in; its tokens are deleted "
                                                      "and the stages it claimed are released")


@officers_router.get("", response=OfficerPage, summary="Officers (agency admin: own agency; mall admin: all)")
def officer_list(request, agency: str | None = None, role: str = "", active: bool | None = None, q: str = "",
                 page: int = 1, page_size: int = 20):
    actor = actor_of(request)
    qs = selectors.officer_list(actor=actor, agency=selectors.agency_named(actor=actor, key=agency), role=role or None,
                                active=active, q=q)
    return page_body(paginate(qs, page=page, page_size=page_size))


@officers_router.post("", response={201: OfficerOut}, summary="Create an officer account")
def officer_create(request, payload: OfficerIn):
    actor = actor_of(request)
    officer = services.officer_create(actor=actor, email=payload.email, full_name=payload.full_name, role=payload.role,
                                      password=payload.password,
                                      agency=selectors.agency_named(actor=actor, key=payload.agency))
    return Status(201, officer)


@officers_router.get("/{uuid}", response=OfficerOut, summary="One officer")
def officer_get(request, uuid: str):
    return selectors.officer_get(actor=actor_of(request), uuid=uuid)


@officers_router.patch("/{uuid}", response=OfficerChangedOut,
                       summary="Rename, change the role of, deactivate or reactivate an officer")
def officer_update(request, uuid: str, payload: OfficerPatch):
    actor = actor_of(request)
    officer = selectors.officer_get(actor=actor, uuid=uuid)
    officer, released = services.officer_update(actor=actor, officer=officer, **payload.dict(exclude_none=True))
    officer.released = released  # the service's row, its agency read with it
    return officer
