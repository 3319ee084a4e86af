import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    ONLINE = "online", _("Daring")
    WALK_IN = "walk_in", _("Di loket")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draf")
    SUBMITTED = "submitted", _("Menunggu pemeriksaan kelengkapan")
    IN_PROCESS = "in_process", _("Diproses")
    RETURNED = "returned", _("Dikembalikan untuk perbaikan")
    APPROVED = "approved", _("Disetujui")
    REJECTED = "rejected", _("Ditolak")


OPEN_STATUSES = (Status.SUBMITTED, Status.IN_PROCESS)  # an officer can act
FINAL_STATUSES = (Status.APPROVED, Status.REJECTED)
EDITABLE_STATUSES = (Status.DRAFT, Status.RETURNED)  # the applicant may change the file


class Application(models.Model):
    """One request (*permohonan*) by an applicant for one service, under the service version
    current when it was filed. The SLA clock starts when the file is complete (`sla_started_on`)
    and pauses while the file is returned to the applicant."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tracking_number = models.CharField(_("nomor registrasi"), max_length=12, unique=True, null=True, blank=True)
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="applications")
    version = models.ForeignKey("catalog.ServiceVersion", on_delete=models.PROTECT, related_name="applications")
    agency = models.ForeignKey("catalog.Agency", on_delete=models.PROTECT, related_name="applications")
    applicant = models.ForeignKey("identity.User", on_delete=models.PROTECT, related_name="applications")
    filed_by = models.ForeignKey("identity.User", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("saluran"), max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    ticket = models.ForeignKey("queueing.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="applications")
    applicant_type = models.CharField(_("jenis pemohon"), max_length=16, default="perorangan")
    business_name = models.CharField(_("nama badan usaha"), max_length=200, blank=True)
    nib = models.CharField("NIB", max_length=13, blank=True)
    npwp = models.CharField("NPWP", max_length=16, blank=True)
    notes = models.TextField(_("keterangan pemohon"), blank=True)
    # for public tracking: checked against what the asker types, never shown
    applicant_birth_date = models.DateField()
    applicant_nik_last4 = models.CharField(max_length=4)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    sla_started_on = models.DateField(null=True, blank=True)
    due_on = models.DateField(_("batas waktu"), null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.TextField(blank=True)
    reject_reason = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=0)  # bumped by every change; stale forms get 409
    idempotency_key = models.CharField(max_length=80, null=True, blank=True)
    idempotency_fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("permohonan")
        verbose_name_plural = _("permohonan")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["filed_by", "idempotency_key"], condition=Q(idempotency_key__isnull=False),
                                    name="application_idempotency"),
        ]
        indexes = [
            models.Index(fields=["applicant", "-created_at"]),
            models.Index(fields=["agency", "status"]),
        ]

    def __str__(self):
        return self.tracking_number or f"draf {self.uuid}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class ApplicationDocument(models.Model):
    """A vault document attached to an application for one of its version's requirements."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="attachments")
    requirement = models.ForeignKey("catalog.Requirement", on_delete=models.PROTECT, related_name="+")
    document = models.ForeignKey("vault.Document", on_delete=models.PROTECT, related_name="attachments")
    attached_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "requirement"], name="attachment_per_requirement")]


class StageKind(models.TextChoices):
    COMPLETENESS_CHECK = "completeness_check", _("Pemeriksaan kelengkapan")
    DATA_ENTRY = "data_entry", _("Entri data back office")
    TECHNICAL_REVIEW = "technical_review", _("Kajian teknis")
    FIELD_INSPECTION = "field_inspection", _("Tinjau lapangan")
    TECHNICAL_TEAM = "technical_team", _("Rapat tim teknis")
    APPROVAL = "approval", _("Persetujuan/penandatanganan")
    HANDOVER = "handover", _("Penyerahan")


# A stage of these kinds ends in a report uploaded by its officer: the Berita Acara Pemeriksaan
# (BAP), a catalogue document type added by migration 0002 (code "bap").
REPORT_KINDS = (StageKind.FIELD_INSPECTION,)
REPORT_DOCUMENT_TYPE = "bap"


class TaskStatus(models.TextChoices):
    WAITING = "waiting", _("Belum dimulai")
    ACTIVE = "active", _("Sedang diproses")
    APPROVED = "approved", _("Selesai")
    REJECTED = "rejected", _("Ditolak")
    CANCELLED = "cancelled", _("Dibatalkan")


class StageTask(models.Model):
    """One agency's part of one workflow stage of an application. A technical-team stage has one
    task per agency, reviewed in parallel; the stage passes when every task is approved."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="tasks")
    stage_key = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=24, choices=StageKind.choices)
    name = models.CharField(max_length=200)
    after = models.JSONField(default=list)
    agency = models.ForeignKey("catalog.Agency", on_delete=models.PROTECT, related_name="stage_tasks")
    role = models.CharField(max_length=24)
    sla_days = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.WAITING)
    activated_on = models.DateField(null=True, blank=True)
    # set while the stage runs on an open file; None while waiting, finished, or returned to the
    # applicant (the clock is paused) — the inbox relies on this
    due_on = models.DateField(null=True, blank=True)
    claimed_by = models.ForeignKey("identity.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    claimed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey("identity.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    report = models.ForeignKey("vault.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "agency_id"]
        constraints = [
            models.UniqueConstraint(fields=["application", "stage_key", "agency"], name="task_per_stage_agency"),
        ]
        # The inbox (an agency's and role's active stages, soonest deadline first; the mall
        # administrator's of every agency) and the overdue sweep read these in order and stop at
        # the page: the status is a column of each, not a partial index's condition, because a
        # statement PostgreSQL prepared and planned once for any values cannot use an index that
        # holds only the rows of one status (docs/applications-bench.md).
        indexes = [
            models.Index(fields=["agency", "role", "status", "due_on", "id"], name="cases_task_inbox"),
            models.Index(fields=["status", "due_on", "id"], name="cases_task_due"),
        ]

    def __str__(self):
        return f"{self.application_id}:{self.stage_key}@{self.agency_id}"

    @property
    def takes_report(self) -> bool:
        return self.kind in REPORT_KINDS

    @property
    def holder_id(self) -> int | None:
        """Who holds the stage: its claimer while they can still work it (an active account of
        the stage's agency and role). The claim of an officer since deactivated or moved holds
        nobody back. Reads `claimed_by` (select it with the task)."""
        user = self.claimed_by if self.claimed_by_id is not None else None
        if user is None or not user.is_active or user.agency_id != self.agency_id or user.role != self.role:
            return None
        return user.pk


class StageReport(models.Model):
    """A report (the BAP) an officer of the stage uploaded into the applicant's vault while the
    stage ran: the only documents `task_approve` accepts as that stage's report."""

    task = models.ForeignKey(StageTask, on_delete=models.CASCADE, related_name="uploaded_reports")
    document = models.ForeignKey("vault.Document", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "document"], name="report_per_task")]


class VaultConsent(models.Model):
    """A walk-in citizen lets the front-office officer filing for them use the documents already
    in their vault (*Dokumen Saya*): the officer asks, the citizen gets a one-time code (in-app
    and by e-mail) and reads it out at the counter. Until a code is accepted, the filer sees and
    attaches only the files they scanned themself. Only the code's keyed hash is kept."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="vault_consents")
    requested_by = models.ForeignKey("identity.User", on_delete=models.PROTECT, related_name="+")
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    granted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["application", "-created_at"], name="cases_consent_latest")]


class Pause(models.Model):
    """The SLA clock stood still: the file was returned on `started_on` and resubmitted on
    `ended_on`. Days in [started_on, ended_on) are not counted (`sla.paused_days`)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="pauses")
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["started_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["application"], condition=Q(ended_on__isnull=True), name="one_open_pause"),
        ]
