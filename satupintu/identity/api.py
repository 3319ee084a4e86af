from datetime import date, datetime
from uuid import UUID

from django.utils.translation import gettext as _
from ninja.responses import Status
from ninja import Router, Schema

from satupintu.config.api import actor_of
from satupintu.core.errors import NotAuthenticated
from satupintu.core.http import client_ip

from . import selectors, services

router = Router(tags=["auth"])


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
    actor = actor_of(request)
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        services.api_token_revoke(actor=actor, key=header[7:].strip())
    elif not actor.is_authenticated:
        raise NotAuthenticated(_("Silakan masuk terlebih dahulu."))
    return Status(204, None)


@router.get("/me", response=MeOut, summary="The signed-in account")
def me(request):
    return me_out(selectors.user_me(actor=actor_of(request)))
