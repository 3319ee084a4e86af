"""The events a notification or webhook can be about, with their title and text.

One registry: each event has a title and a body (gettext, %-formatting over the context) and the
context keys it needs. Text is rendered when shown, in the reader's language, so a notification
stored in Indonesian reads in English for a visitor who chose English.
"""

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from satupintu.core.errors import InvalidInput

COMMON = ("tracking_number", "service_name")
DATE_KEYS = frozenset({"due_on", "since"})
MAX_VALUE_LENGTH = 1000


# Lines added to a body when their key has a value in the context and the body does not use it
# already (nor requires it), in this order.
OPTIONAL_LINES = (
    ("applicant_name", gettext_lazy("Pemohon: %(applicant_name)s.")),
    ("stage_name", gettext_lazy("Tahap: %(stage_name)s.")),
    ("agency_name", gettext_lazy("Instansi: %(agency_name)s.")),
    ("due_on", gettext_lazy("Batas waktu: %(due_on)s.")),
)
ALL_OPTIONAL = tuple(key for key, _line in OPTIONAL_LINES)


@dataclass(frozen=True)
class Event:
    label: str  # what the event is, for lists (webhook subscriptions)
    title: str
    body: str
    required: tuple[str, ...] = COMMON
    optional: tuple[str, ...] = ALL_OPTIONAL  # which of OPTIONAL_LINES it may show
    webhook: bool = True  # agencies' systems may subscribe to it


EVENTS: dict[str, Event] = {
    "application.submitted": Event(
        gettext_lazy("Permohonan diajukan"),
        gettext_lazy("Permohonan %(tracking_number)s diterima"),
        gettext_lazy("Permohonan %(service_name)s dengan nomor %(tracking_number)s telah diterima dan akan diproses."),
    ),
    "application.returned": Event(
        gettext_lazy("Permohonan dikembalikan untuk perbaikan"),
        gettext_lazy("Permohonan %(tracking_number)s perlu diperbaiki"),
        gettext_lazy("Permohonan %(service_name)s dikembalikan untuk diperbaiki. Alasan: %(reason)s"),
        (*COMMON, "reason"),
    ),
    "application.resubmitted": Event(
        gettext_lazy("Permohonan diajukan kembali"),
        gettext_lazy("Permohonan %(tracking_number)s diajukan kembali"),
        gettext_lazy("Perbaikan permohonan %(service_name)s telah diajukan kembali dan akan diperiksa ulang."),
    ),
    "application.stage_passed": Event(
        gettext_lazy("Tahap proses selesai"),
        gettext_lazy("Permohonan %(tracking_number)s: tahap %(stage_name)s selesai"),
        gettext_lazy("Tahap %(stage_name)s di %(agency_name)s untuk permohonan %(service_name)s telah selesai."),
        (*COMMON, "stage_name", "agency_name"),
    ),
    "application.stage_assigned": Event(
        gettext_lazy("Berkas masuk ke kotak kerja petugas"),
        gettext_lazy("Berkas baru: %(tracking_number)s"),
        gettext_lazy("Permohonan %(service_name)s masuk ke kotak kerja Anda."),
    ),
    # final: the application's due date is never shown (a citizen would read it as the permit's
    # expiry), not even from a notification stored with one
    "application.approved": Event(
        gettext_lazy("Permohonan disetujui"),
        gettext_lazy("Permohonan %(tracking_number)s disetujui"),
        gettext_lazy("Permohonan %(service_name)s telah disetujui."),
        optional=("applicant_name", "stage_name", "agency_name"),
    ),
    "application.rejected": Event(
        gettext_lazy("Permohonan ditolak"),
        gettext_lazy("Permohonan %(tracking_number)s ditolak"),
        gettext_lazy("Permohonan %(service_name)s ditolak. Alasan: %(reason)s"),
        (*COMMON, "reason"),
        optional=("applicant_name", "stage_name", "agency_name"),
    ),
    "application.overdue": Event(
        gettext_lazy("Tahap melewati batas waktu"),
        gettext_lazy("Permohonan %(tracking_number)s melewati batas waktu"),
        gettext_lazy(
            "Tahap %(stage_name)s di %(agency_name)s untuk permohonan %(service_name)s melewati batas waktu %(due_on)s."
        ),
        (*COMMON, "stage_name", "agency_name", "due_on"),
    ),
    # a draft has no tracking number yet; the code is for the applicant alone
    "application.vault_consent_requested": Event(
        gettext_lazy("Kode izin memakai dokumen tersimpan"),
        gettext_lazy("Kode izin dokumen: %(code)s"),
        gettext_lazy(
            "%(officer_name)s (%(agency_name)s) sedang mengisi permohonan %(service_name)s atas nama Anda di loket dan "
            "meminta izin memakai dokumen yang tersimpan di akun Anda. Jika Anda sedang berada di loket, bacakan kode "
            "%(code)s kepada petugas; kode berlaku %(minutes)s menit. Jika tidak, abaikan pesan ini: tanpa kode, "
            "dokumen Anda tidak bisa dipakai."
        ),
        ("service_name", "code", "minutes", "officer_name", "agency_name"),
        optional=(),
        webhook=False,
    ),
    "webhook.endpoint_disabled": Event(
        gettext_lazy("Webhook dinonaktifkan karena gagal terus"),
        gettext_lazy("Webhook %(agency_name)s dinonaktifkan"),
        gettext_lazy(
            "Pengiriman ke %(url)s gagal terus sejak %(since)s, jadi SatuPintu berhenti mengirim ke alamat itu. Setelah "
            "sistem penerima pulih, aktifkan lagi di halaman Webhook lalu kirim ulang pengiriman yang gagal."
        ),
        ("url", "agency_name", "since"),
        optional=(),
        webhook=False,
    ),
}

WEBHOOK_EVENTS = {name: event for name, event in EVENTS.items() if event.webhook}


def event_get(name: str) -> Event:
    event = EVENTS.get(name)
    if event is None:
        raise InvalidInput(_("Jenis kejadian tidak dikenal: %(e)s.") % {"e": str(name)[:64]}, code="unknown_event",
                           details={"known": sorted(EVENTS)})
    return event


def webhook_event_get(name: str) -> Event:
    """An event agencies' systems may receive: subscribed to, and emitted to every endpoint."""
    event = event_get(name)
    if not event.webhook:
        raise InvalidInput(_("Kejadian %(e)s tidak dikirim ke webhook.") % {"e": name}, code="unknown_event",
                           details={"known": sorted(WEBHOOK_EVENTS)})
    return event


def clean_context(name: str, context: dict) -> dict:
    """The context as stored: strings only (dates as ISO text), every key the event needs present."""
    event = event_get(name)
    if not isinstance(context, dict):
        raise InvalidInput(_("Konteks notifikasi harus berupa objek."), code="invalid_context")
    clean = {}
    for key, value in context.items():
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, UUID | int) and not isinstance(value, bool):
            value = str(value)
        elif not isinstance(value, str):
            raise InvalidInput(_("Nilai konteks %(k)s harus teks atau tanggal.") % {"k": str(key)[:64]},
                               code="invalid_context")
        if len(value) > MAX_VALUE_LENGTH:
            raise InvalidInput(_("Nilai konteks %(k)s terlalu panjang.") % {"k": str(key)[:64]}, code="invalid_context")
        clean[str(key)] = value
    missing = [k for k in event.required if not clean.get(k)]
    if missing:
        raise InvalidInput(_("Konteks kejadian %(e)s kurang: %(k)s.") % {"e": name, "k": ", ".join(missing)},
                           code="missing_context", details={"missing": missing})
    return clean


class _Values(dict):
    """Context for %-formatting: dates shown in the active language, a missing key as a dash."""

    def __missing__(self, key):
        return "—"

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if key in DATE_KEYS:
            try:
                value = formats.date_format(date.fromisoformat(value[:10]), "DATE_FORMAT")
            except ValueError:
                pass
        return value


def render(name: str, context: dict) -> tuple[str, str]:
    """(title, body) of an event in the active language. An event no longer in the registry
    still shows, with its name as the title."""
    event = EVENTS.get(name)
    values = _Values(context or {})
    if event is None:
        return name, ""
    body_source = str(event.body)
    lines = [body_source % values]
    for key, line in OPTIONAL_LINES:
        # only with something to say: an empty value would read "Batas waktu: ."
        if (key in event.optional and str(values.get(key) or "").strip() and f"%({key})s" not in body_source
                and key not in event.required):
            lines.append(str(line) % values)
    return str(event.title) % values, " ".join(lines)
