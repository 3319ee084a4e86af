"""The notification inbox and webhook endpoints over the API (django-ninja routers)."""

from datetime import datetime
from uuid import UUID

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from satupintu.config.api import actor_of
from satupintu.core.errors import InvalidInput
from satupintu.core.pagination import page_body, paginate

from . import selectors, services

router = Router(tags=["notifications"])
webhooks_router = Router(tags=["webhooks"])


class NotificationOut(Schema):
    uuid: UUID
    event: str
    title: str
    body: str
    link: str
    object_type: str
    object_id: str
    context: dict
    created_at: datetime
    read_at: datetime | None


class NotificationPage(Schema):
    count: int
    count_capped: bool  # more notifications than `count` (the count stops at 1,000)
    unread_count: int
    unread_count_capped: bool  # more unread than 99 (`unread_count` is then 100)
    page: int
    page_size: int
    pages: int
    results: list[NotificationOut]


class MarkedOut(Schema):
    marked: int


@router.get("", response=NotificationPage, summary="My notifications, newest first (filter unread=true)")
def notification_list(request, unread: bool | None = None, page: int = 1, page_size: int = 20):
    actor = actor_of(request)
    result = selectors.notification_page(actor=actor, unread=unread, page=page, page_size=page_size)
    unread = selectors.notification_unread_count(actor=actor)
    return {"count": result.count, "count_capped": result.capped, "unread_count": unread,
            "unread_count_capped": unread > selectors.UNREAD_COUNT_CAP, "page": result.page,
            "page_size": result.page_size, "pages": result.pages, "results": result.items}


@router.post("/read-all", response=MarkedOut, summary="Mark all my notifications read")
def notification_read_all(request):
    return {"marked": services.notification_mark_read(actor=actor_of(request), all=True)}


@router.post("/{uuid}/read", response=NotificationOut, summary="Mark one of my notifications read")
def notification_read(request, uuid: str):
    actor = actor_of(request)
    notification = selectors.notification_get(actor=actor, key=uuid)
    services.notification_mark_read(actor=actor, notification=notification)
    return selectors.with_text([notification])[0]


# --- webhooks ---------------------------------------------------------------------------------


class AgencyRef(Schema):
    uuid: UUID
    slug: str
    short_name: str


class EndpointOut(Schema):
    uuid: UUID
    agency: AgencyRef
    url: str
    events: list[str]
    is_active: bool
    created_at: datetime
    failing_since: datetime | None = Field(None, description="the first delivery given up on since the last one "
                                                            "delivered; none while deliveries get through")
    disabled_at: datetime | None
    disabled_by_failures: bool = Field(..., description="switched off by SatuPintu after failing for "
                                                        "WEBHOOK_DISABLE_AFTER_HOURS (default 72)")


class EndpointPatch(Schema):
    is_active: bool


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(..., description="signing secret: shown only in this answer")


class EndpointPage(Schema):
    count: int
    page: int
    page_size: int
    pages: int
    results: list[EndpointOut]


class EndpointIn(Schema):
    url: str
    events: list[str] = Field(default_factory=list, description="event names; empty: every event")
    agency: str | None = Field(None, description="slug or UUID; default: the officer's own agency")


class SecretOut(Schema):
    secret: str


class DeliveryOut(Schema):
    uuid: UUID
    event: str
    status: str = Field(..., description="pending, sending (claimed by a worker, being POSTed), delivered or failed")
    status_label: str = Field(..., description="the status in the caller's language")
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime
    payload: dict

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())


class DeliveryPage(Schema):
    count: int
    page: int
    page_size: int
    pages: int
    results: list[DeliveryOut]


@webhooks_router.get("", response=EndpointPage, summary="Webhook endpoints (officers: own agency)")
def webhook_list(request, agency: str | None = None, page: int = 1, page_size: int = 20):
    actor = actor_of(request)
    target = selectors.webhook_agency(actor=actor, key=agency)
    return page_body(paginate(selectors.webhook_endpoint_list(actor=actor, agency=target), page=page, page_size=page_size))


@webhooks_router.post("", response={201: EndpointCreatedOut}, summary="Register a webhook endpoint (agency admin)")
def webhook_create(request, payload: EndpointIn):
    actor = actor_of(request)
    target = selectors.webhook_agency(actor=actor, key=payload.agency)
    if target is None:  # the mall administrator manages every agency's: say which
        raise InvalidInput(_("Sebutkan instansi pemilik webhook."), code="agency_required")
    endpoint, secret = services.webhook_endpoint_create(actor=actor, agency=target, url=payload.url, events=payload.events)
    return Status(201, {**EndpointOut.from_orm(endpoint).dict(), "secret": secret})


@webhooks_router.delete("/{uuid}", response={204: None}, summary="Remove a webhook endpoint")
def webhook_delete(request, uuid: str):
    actor = actor_of(request)
    services.webhook_endpoint_delete(actor=actor, endpoint=selectors.webhook_endpoint_get(actor=actor, key=uuid))
    return Status(204, None)


@webhooks_router.patch("/{uuid}", response=EndpointOut, summary="Switch a webhook endpoint off or on again")
def webhook_patch(request, uuid: str, payload: EndpointPatch):
    actor = actor_of(request)
    endpoint = selectors.webhook_endpoint_get(actor=actor, key=uuid)
    services.webhook_endpoint_set_active(actor=actor, endpoint=endpoint, active=payload.is_active)
    return selectors.webhook_endpoint_get(actor=actor, key=uuid)


@webhooks_router.post("/{uuid}/rotate-secret", response=SecretOut, summary="Replace an endpoint's signing secret")
def webhook_rotate(request, uuid: str):
    actor = actor_of(request)
    endpoint = selectors.webhook_endpoint_get(actor=actor, key=uuid)
    return {"secret": services.webhook_endpoint_rotate_secret(actor=actor, endpoint=endpoint)}


@webhooks_router.get("/{uuid}/deliveries", response=DeliveryPage, summary="Recent deliveries to an endpoint")
def webhook_deliveries(request, uuid: str, page: int = 1, page_size: int = 20):
    actor = actor_of(request)
    endpoint = selectors.webhook_endpoint_get(actor=actor, key=uuid)
    return page_body(paginate(selectors.webhook_delivery_list(actor=actor, endpoint=endpoint), page=page, page_size=page_size))


class RedeliveredOut(Schema):
    queued: int = Field(..., description="failed deliveries queued again")


@webhooks_router.post("/{uuid}/redeliver", response=RedeliveredOut,
                      summary="Send every failed delivery to an endpoint again (oldest first, up to 1,000 a call)")
def webhook_redeliver_failed(request, uuid: str):
    actor = actor_of(request)
    endpoint = selectors.webhook_endpoint_get(actor=actor, key=uuid)
    return {"queued": services.webhook_deliveries_redeliver(actor=actor, endpoint=endpoint)}


@webhooks_router.post("/{uuid}/deliveries/{delivery}/redeliver", response=DeliveryOut,
                      summary="Send one failed delivery again")
def webhook_redeliver(request, uuid: str, delivery: str):
    actor = actor_of(request)
    endpoint = selectors.webhook_endpoint_get(actor=actor, key=uuid)
    found = selectors.webhook_delivery_get(actor=actor, endpoint=endpoint, key=delivery)
    services.webhook_deliveries_redeliver(actor=actor, endpoint=endpoint, delivery=found)
    found.refresh_from_db()  # as the service left it
    return found
