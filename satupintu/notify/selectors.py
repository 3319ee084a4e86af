"""Every read of notifications and webhooks, scoped to the actor: a person reads only their own
notifications; an officer sees only their agency's webhooks; the mall administrator sees all."""

import uuid as uuidlib

from django.utils.translation import gettext as _

from satupintu.core.errors import Forbidden, NotFound
from satupintu.core.pagination import Page, paginate
from satupintu.core.permissions import is_authenticated, is_mall_admin, officer_agency_id, require_authenticated

from .events import render
from .models import Notification, WebhookDelivery, WebhookEndpoint


def _uuid(key, message: str, code: str):
    try:
        return uuidlib.UUID(str(key))
    except ValueError:
        raise NotFound(message, code=code) from None


def with_text(notifications):
    """Attach `title` and `body`, rendered in the active language."""
    for n in notifications:
        n.title, n.body = render(n.event, n.context)
    return notifications


def notification_list(*, actor, unread: bool | None = None):
    require_authenticated(actor)
    qs = Notification.objects.filter(recipient_id=actor.pk).order_by("-created_at", "-id")
    if unread is True:
        qs = qs.filter(read_at__isnull=True)
    elif unread is False:
        qs = qs.filter(read_at__isnull=False)
    return qs


# Counting stops here: an officer of a busy agency gathers tens of thousands of notifications,
# and every page shows the unread badge.
COUNT_CAP = 1000
UNREAD_COUNT_CAP = 99  # the badge then says "99+"


def notification_page(*, actor, unread: bool | None = None, page: int = 1, page_size: int = 20) -> Page:
    """A page of the actor's notifications, newest first; `count` stops at COUNT_CAP (`capped`)."""
    result = paginate(notification_list(actor=actor, unread=unread), page=page, page_size=page_size, count_cap=COUNT_CAP)
    with_text(result.items)
    return result


def notification_unread_count(*, actor) -> int:
    """Unread notifications, counted up to UNREAD_COUNT_CAP + 1 (more than the cap: "99+")."""
    if not is_authenticated(actor):
        return 0
    unread = Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True)
    return unread.order_by()[: UNREAD_COUNT_CAP + 1].count()


def notification_get(*, actor, key) -> Notification:
    require_authenticated(actor)
    message = _("Notifikasi tidak ditemukan.")
    n = Notification.objects.filter(recipient_id=actor.pk, uuid=_uuid(key, message, "notification_not_found")).first()
    if n is None:
        raise NotFound(message, code="notification_not_found")
    return n


def _visible_agency_id(actor):
    """None for the mall admin (every agency), else the officer's agency; others may not look."""
    require_authenticated(actor)
    if is_mall_admin(actor):
        return None
    agency_id = officer_agency_id(actor)
    if agency_id is None:
        raise Forbidden(_("Hanya petugas instansi atau pengelola MPP yang dapat melihat webhook."), code="webhook_forbidden")
    return agency_id


def webhook_agency(*, actor, key: str | None = None):
    """The agency a webhook request is about: the one `key` names (slug or UUID), else the
    officer's own; None for the mall administrator without a key (every agency). Anyone else
    may not look (403); managing another agency's webhooks is refused by the services."""
    own = _visible_agency_id(actor)
    if key:
        from satupintu.catalog.selectors import agency_get

        return agency_get(actor=actor, key=key)
    return actor.agency if own is not None else None


def _of_agency(qs, actor, agency, field: str):
    """`qs` cut to the agency the actor may look at: an officer's own (another one is a 403), the
    mall administrator's choice or every agency."""
    own = _visible_agency_id(actor)
    if own is not None:
        if agency is not None and agency.pk != own:
            raise Forbidden(_("Anda hanya dapat melihat webhook instansi Anda sendiri."), code="webhook_forbidden")
        return qs.filter(**{field: own})
    return qs.filter(**{field: agency.pk}) if agency is not None else qs


def webhook_endpoint_list(*, actor, agency=None):
    return _of_agency(WebhookEndpoint.objects.select_related("agency").order_by("-created_at", "-id"), actor, agency,
                      "agency_id")


def webhook_endpoint_get(*, actor, key) -> WebhookEndpoint:
    message = _("Webhook tidak ditemukan.")
    key = _uuid(key, message, "webhook_not_found")
    endpoint = webhook_endpoint_list(actor=actor).filter(uuid=key).first()
    if endpoint is None:
        raise NotFound(message, code="webhook_not_found")
    return endpoint


def webhook_delivery_get(*, actor, endpoint: WebhookEndpoint, key) -> WebhookDelivery:
    """One delivery to `endpoint` (which the actor may look at: `webhook_endpoint_get`)."""
    message = _("Pengiriman tidak ditemukan.")
    delivery = webhook_delivery_list(actor=actor, endpoint=endpoint).filter(
        uuid=_uuid(key, message, "delivery_not_found")).first()
    if delivery is None:
        raise NotFound(message, code="delivery_not_found")
    return delivery


def webhook_delivery_list(*, actor, endpoint: WebhookEndpoint | None = None, agency=None):
    """Deliveries of one endpoint or of an agency, within what the actor may look at."""
    qs = WebhookDelivery.objects.select_related("endpoint").order_by("-created_at", "-id")
    if endpoint is not None:
        qs = qs.filter(endpoint=endpoint)
    return _of_agency(qs, actor, agency, "endpoint__agency_id")


