from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from satupintu.catalog.selectors import agency_choices
from satupintu.core.errors import DomainError, InvalidInput
from satupintu.core.http import int_param
from satupintu.core.permissions import can_manage_agency, is_mall_admin

from . import selectors, services
from .events import WEBHOOK_EVENTS

SECRET_KEY = "notify_new_secret"


@login_required
def inbox(request):
    unread_only = request.GET.get("belum") == "1"
    page = selectors.notification_page(actor=request.user, unread=True if unread_only else None,
                                       page=int_param(request.GET, "halaman"), page_size=20)
    return render(request, "notify/inbox.html", {"page": page, "unread_only": unread_only})


def _back(request, fallback: str):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@login_required
@require_POST
def read_one(request, key):
    notification = selectors.notification_get(actor=request.user, key=key)
    services.notification_mark_read(actor=request.user, notification=notification)
    return _back(request, "notify:inbox")


@login_required
@require_POST
def read_all(request):
    changed = services.notification_mark_read(actor=request.user, all=True)
    if changed:
        messages.success(request, _("%(n)d notifikasi ditandai sudah dibaca.") % {"n": changed})
    return redirect("notify:inbox")


@login_required
def webhooks(request):
    actor = request.user
    agency = selectors.webhook_agency(actor=actor, key=request.POST.get("instansi") or request.GET.get("instansi"))
    chooses = is_mall_admin(actor)  # the mall administrator picks the agency; an officer has one
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "create":
                if agency is None:
                    raise InvalidInput(_("Pilih instansi pemilik webhook."), code="agency_required")
                endpoint, secret = services.webhook_endpoint_create(
                    actor=actor, agency=agency, url=request.POST.get("url", ""), events=request.POST.getlist("events"))
                request.session[SECRET_KEY] = {"url": endpoint.url, "secret": secret}
                messages.success(request, _("Webhook ditambahkan."))
            elif action in ("delete", "rotate", "redeliver", "enable", "disable"):
                endpoint = selectors.webhook_endpoint_get(actor=actor, key=request.POST.get("endpoint", ""))
                if action in ("enable", "disable"):
                    services.webhook_endpoint_set_active(actor=actor, endpoint=endpoint, active=action == "enable")
                    messages.success(request, _("Webhook diaktifkan lagi; kirim ulang pengiriman yang gagal bila perlu.")
                                     if action == "enable" else _("Webhook dinonaktifkan; tidak ada yang dikirim ke alamat itu."))
                elif action == "delete":
                    services.webhook_endpoint_delete(actor=actor, endpoint=endpoint)
                    messages.success(request, _("Webhook dihapus."))
                elif action == "rotate":
                    secret = services.webhook_endpoint_rotate_secret(actor=actor, endpoint=endpoint)
                    request.session[SECRET_KEY] = {"url": endpoint.url, "secret": secret}
                    messages.success(request, _("Rahasia webhook diganti."))
                else:
                    key = request.POST.get("delivery")
                    delivery = selectors.webhook_delivery_get(actor=actor, endpoint=endpoint, key=key) if key else None
                    queued = services.webhook_deliveries_redeliver(actor=actor, endpoint=endpoint, delivery=delivery)
                    if queued:
                        messages.success(request, _("%(n)d pengiriman yang gagal dikirim ulang.") % {"n": queued})
                    else:
                        messages.info(request, _("Tidak ada pengiriman gagal ke alamat ini."))
            else:
                messages.error(request, _("Tindakan tidak dikenal."))
        except DomainError as exc:
            messages.error(request, exc.message)
        target = request.path + (f"?instansi={agency.slug}" if agency is not None and chooses else "")
        return redirect(target)
    endpoints = list(selectors.webhook_endpoint_list(actor=actor, agency=agency)[:50])
    deliveries = list(selectors.webhook_delivery_list(actor=actor, agency=agency)[:30])
    events = [(name, WEBHOOK_EVENTS[name].label) for name in sorted(WEBHOOK_EVENTS)]
    return render(request, "notify/webhooks.html", {
        "agency": agency, "endpoints": endpoints, "deliveries": deliveries,
        "new_secret": request.session.pop(SECRET_KEY, None),
        "can_manage": can_manage_agency(actor, agency.pk if agency else None),  # no agency: the mall admin
        "agencies": agency_choices(actor=actor) if chooses else None,
        "events": events,
    })
