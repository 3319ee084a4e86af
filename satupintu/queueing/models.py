import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Priority(models.TextChoices):
    NONE = "", _("Umum")
    LANSIA = "lansia", _("Lansia")
    DISABILITAS = "disabilitas", _("Penyandang disabilitas")
    IBU_HAMIL_MENYUSUI = "ibu_hamil_menyusui", _("Ibu hamil/menyusui")
    ANAK = "anak", _("Anak-anak")


class QueueGroup(models.Model):
    """A service group with its own ticket numbering (prefix A, B, …) at one agency."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey("catalog.Site", on_delete=models.PROTECT, related_name="queue_groups")
    agency = models.ForeignKey("catalog.Agency", on_delete=models.PROTECT, related_name="queue_groups")
    prefix = models.CharField(_("awalan nomor"), max_length=2)
    name = models.CharField(_("nama"), max_length=120)
    services = models.ManyToManyField("catalog.Service", blank=True, related_name="queue_groups")
    number_start = models.PositiveIntegerField(_("nomor awal"), default=1)
    number_wrap = models.PositiveIntegerField(_("nomor akhir (lalu kembali ke awal)"), default=999)
    is_active = models.BooleanField(default=True)
    # online booking (reservasi): slots of `booking_slot_minutes` within the site's opening hours
    booking_enabled = models.BooleanField(_("bisa dipesan daring"), default=True)
    booking_slot_minutes = models.PositiveSmallIntegerField(_("panjang slot (menit)"), default=30)
    booking_slot_quota = models.PositiveSmallIntegerField(_("kuota per slot"), default=10)
    booking_day_quota = models.PositiveIntegerField(_("kuota per hari"), default=150)

    class Meta:
        verbose_name = _("kelompok antrean")
        verbose_name_plural = _("kelompok antrean")
        ordering = ["prefix"]
        constraints = [
            models.UniqueConstraint(fields=["site", "prefix"], name="queue_group_unique_prefix"),
            models.CheckConstraint(name="queue_group_wrap_after_start", condition=Q(number_wrap__gt=models.F("number_start"))),
        ]

    def __str__(self):
        return f"{self.prefix} — {self.name}"


class DaySequence(models.Model):
    """The last number issued in a group on a day; its row lock serialises issuing."""

    group = models.ForeignKey(QueueGroup, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last_number = models.PositiveIntegerField(default=0)
    cycle = models.PositiveIntegerField(default=0)  # how many times the numbers wrapped today

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "day"], name="day_sequence_unique")]


class TicketStatus(models.TextChoices):
    WAITING = "waiting", _("Menunggu")
    CALLED = "called", _("Dipanggil")
    SERVING = "serving", _("Dilayani")
    DONE = "done", _("Selesai")
    NO_SHOW = "no_show", _("Tidak hadir")
    TRANSFERRED = "transferred", _("Dialihkan")
    EXPIRED = "expired", _("Tidak terlayani (hari ditutup)")


class Ticket(models.Model):
    """One place in the physical queue (*nomor antrian*)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(max_length=12, unique=True)  # typed or scanned: short, with a check character
    site = models.ForeignKey("catalog.Site", on_delete=models.PROTECT, related_name="+")
    group = models.ForeignKey(QueueGroup, on_delete=models.PROTECT, related_name="tickets")
    day = models.DateField()
    cycle = models.PositiveIntegerField(default=0)
    number = models.PositiveIntegerField()
    service = models.ForeignKey("catalog.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    nik = models.CharField(max_length=16, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    priority = models.CharField(max_length=24, choices=Priority.choices, blank=True, default="")
    priority_weight = models.PositiveSmallIntegerField(default=0)
    booked_for = models.DateTimeField(null=True, blank=True)  # slot start of a checked-in booking
    arrival_at = models.DateTimeField()  # kept across transfers: nobody queues again from the back
    issued_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=TicketStatus.choices, default=TicketStatus.WAITING)
    counter = models.ForeignKey("catalog.Counter", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    called_by = models.ForeignKey("identity.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    called_at = models.DateTimeField(null=True, blank=True)  # the latest call (a recall moves it)
    first_called_at = models.DateTimeField(null=True, blank=True)  # waiting time ends here
    recall_count = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    transferred_from = models.OneToOneField("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="transferred_to")

    class Meta:
        verbose_name = _("tiket antrean")
        verbose_name_plural = _("tiket antrean")
        constraints = [models.UniqueConstraint(fields=["group", "day", "cycle", "number"], name="ticket_unique_number")]
        indexes = [models.Index(fields=["group", "day", "status"])]

    def __str__(self):
        return self.display

    @property
    def display(self) -> str:
        return f"{self.group.prefix}{self.number:03d}"


class CounterSession(models.Model):
    """A counter (loket) opened by an officer for one or more queue groups."""

    counter = models.ForeignKey("catalog.Counter", on_delete=models.PROTECT, related_name="sessions")
    officer = models.ForeignKey("identity.User", on_delete=models.PROTECT, related_name="+")
    groups = models.ManyToManyField(QueueGroup, related_name="+")
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    paused = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["counter"], condition=Q(closed_at__isnull=True), name="one_open_session_per_counter")
        ]


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("Dipesan")
    CHECKED_IN = "checked_in", _("Sudah check-in")
    CANCELLED = "cancelled", _("Dibatalkan")
    EXPIRED = "expired", _("Kedaluwarsa")


class Booking(models.Model):
    """A reserved time slot (*reservasi*) that becomes a ticket at check-in."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(max_length=12, unique=True)
    group = models.ForeignKey(QueueGroup, on_delete=models.PROTECT, related_name="bookings")
    service = models.ForeignKey("catalog.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    day = models.DateField()
    slot_start = models.DateTimeField()
    nik = models.CharField(max_length=16, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=12, choices=BookingStatus.choices, default=BookingStatus.BOOKED)
    ticket = models.OneToOneField(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="booking")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reservasi")
        verbose_name_plural = _("reservasi")
        indexes = [models.Index(fields=["group", "day", "status"]), models.Index(fields=["day", "nik"]),
                   models.Index(fields=["day", "phone"])]
