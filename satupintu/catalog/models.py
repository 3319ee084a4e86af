import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Site(models.Model):
    """A service mall (MPP): where agencies serve, its hours, time zone and local closures."""

    slug = models.SlugField(unique=True)
    name = models.CharField(_("nama"), max_length=200)
    address = models.TextField(_("alamat"), blank=True)
    timezone = models.CharField(_("zona waktu"), max_length=64, default="Asia/Jakarta")
    region_code = models.CharField(_("kode wilayah"), max_length=8, blank=True)
    opened_on = models.DateField(_("dibuka sejak"), null=True, blank=True)
    phone = models.CharField(_("telepon"), max_length=40, blank=True)
    email = models.EmailField(blank=True)
    # {"mon": ["08:00", "15:00"], …}; an absent weekday is closed
    opening_hours = models.JSONField(_("jam layanan"), default=dict, blank=True)

    class Meta:
        verbose_name = _("mal pelayanan publik")
        verbose_name_plural = _("mal pelayanan publik")

    def __str__(self):
        return self.name


class Closure(models.Model):
    """A local closure day on top of national holidays and cuti bersama."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField(_("tanggal"))
    reason = models.CharField(_("alasan"), max_length=200)

    class Meta:
        verbose_name = _("penutupan lokal")
        verbose_name_plural = _("penutupan lokal")
        constraints = [models.UniqueConstraint(fields=["site", "date"], name="closure_unique_day")]
        ordering = ["date"]

    def __str__(self):
        return f"{self.date}: {self.reason}"


class AgencyKind(models.TextChoices):
    PEMDA_KOTA = "pemda_kota", _("Pemerintah kabupaten/kota")
    PEMDA_PROVINSI = "pemda_provinsi", _("Pemerintah provinsi")
    INSTANSI_VERTIKAL = "instansi_vertikal", _("Instansi vertikal")
    KEMENTERIAN_LEMBAGA = "kementerian_lembaga", _("Kementerian/lembaga")
    BUMN = "bumn", _("BUMN")
    BUMD = "bumd", _("BUMD")
    SWASTA = "swasta", _("Swasta")


class Agency(models.Model):
    """A tenant of the mall (*instansi*)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="agencies")
    slug = models.SlugField(_("slug"), max_length=64)
    name = models.CharField(_("nama"), max_length=200)
    short_name = models.CharField(_("singkatan"), max_length=60)
    kind = models.CharField(_("jenis"), max_length=24, choices=AgencyKind.choices)
    description = models.TextField(_("deskripsi"), blank=True)
    phone = models.CharField(_("telepon"), max_length=40, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        verbose_name = _("instansi")
        verbose_name_plural = _("instansi")
        ordering = ["position", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "slug"], name="agency_unique_slug")]

    def __str__(self):
        return self.short_name or self.name


class Counter(models.Model):
    """A service desk (*gerai/loket*) of an agency in the hall."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="counters")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="counters")
    code = models.CharField(_("kode loket"), max_length=12)
    name = models.CharField(_("nama"), max_length=120)
    is_active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        verbose_name = _("loket")
        verbose_name_plural = _("loket")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["site", "code"], name="counter_unique_code")]

    def __str__(self):
        return f"{self.code} — {self.name}"


class ServiceKind(models.TextChoices):
    PERIZINAN = "perizinan", _("Perizinan")
    NON_PERIZINAN = "non_perizinan", _("Non-perizinan")
    LAYANAN_INSTANSI = "layanan_instansi", _("Layanan instansi")


class ApplicantType(models.TextChoices):
    PERORANGAN = "perorangan", _("Perorangan")
    BADAN_USAHA = "badan_usaha", _("Badan usaha")


class DocumentType(models.Model):
    """A kind of document a requirement asks for (KTP-el, KK, NIB …)."""

    code = models.SlugField(unique=True, max_length=64)
    name = models.CharField(_("nama"), max_length=200)
    description = models.TextField(_("keterangan"), blank=True)

    class Meta:
        verbose_name = _("jenis dokumen")
        verbose_name_plural = _("jenis dokumen")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Service(models.Model):
    """One service type of the catalogue. Its content lives in versions; `current_version` is the
    published one. Name and search columns are copied from it when it is published."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="services")
    slug = models.SlugField(max_length=80)
    kind = models.CharField(_("jenis layanan"), max_length=24, choices=ServiceKind.choices)
    is_active = models.BooleanField(_("aktif"), default=True)
    current_version = models.OneToOneField(
        "ServiceVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("nama"), max_length=250, blank=True)
    # Sastrawi-stemmed text indexed by the engine's full-text search (FTS5 or tsvector).
    search_title = models.TextField(blank=True, default="")
    search_body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("layanan")
        verbose_name_plural = _("layanan")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["agency", "slug"], name="service_unique_slug")]
        indexes = [
            models.Index(fields=["name", "id"]),
            models.Index(fields=["kind", "name"]),
            models.Index(fields=["agency", "name"]),
        ]

    def __str__(self):
        return self.name or self.slug


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draf")
    PUBLISHED = "published", _("Terbit")
    SUPERSEDED = "superseded", _("Versi lama")


class ServiceVersion(models.Model):
    """One version of a service's *standar pelayanan*. Published versions never change;
    applications keep the version they were filed under."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    name = models.CharField(_("nama layanan"), max_length=250)
    description = models.TextField(_("deskripsi"), blank=True)
    applicant_types = models.JSONField(_("jenis pemohon"), default=list)
    # Service delivery components (1)–(6)
    procedure = models.JSONField(_("sistem, mekanisme, dan prosedur"), default=list)
    completion_days = models.PositiveIntegerField(_("jangka waktu penyelesaian (hari kerja)"))
    fee = models.PositiveBigIntegerField(_("biaya/tarif (Rp)"), default=0)
    # the amount depends on the case (a tax, a tariff, a formula): explained in fee_basis
    fee_variable = models.BooleanField(_("biaya bervariasi"), default=False)
    fee_basis = models.TextField(_("dasar hukum biaya"), blank=True)
    product = models.TextField(_("produk pelayanan"), blank=True)
    complaint_channels = models.JSONField(_("penanganan pengaduan, saran, dan masukan"), default=list)
    # Management components (7)–(14)
    legal_basis = models.JSONField(_("dasar hukum"), default=list)
    facilities = models.JSONField(_("sarana, prasarana, dan/atau fasilitas"), default=list)
    competence = models.TextField(_("kompetensi pelaksana"), blank=True)
    internal_supervision = models.TextField(_("pengawasan internal"), blank=True)
    staff = models.TextField(_("jumlah pelaksana"), blank=True)
    service_guarantee = models.TextField(_("jaminan pelayanan"), blank=True)
    security_guarantee = models.TextField(_("jaminan keamanan dan keselamatan pelayanan"), blank=True)
    performance_evaluation = models.TextField(_("evaluasi kinerja pelaksana"), blank=True)
    # The process (*alur*): stages in execution order, shape and rules in catalog/workflow.py
    workflow = models.JSONField(_("alur layanan"), default=list, blank=True)
    # *fiktif positif*: the application is deemed granted when no decision is made within
    # completion_days working days from the moment the file is complete
    deemed_approval = models.BooleanField(_("fiktif positif"), default=False)
    # Eligibility rules
    region_prefixes = models.JSONField(_("wilayah NIK yang dilayani"), default=list, blank=True)
    min_age = models.PositiveSmallIntegerField(_("usia minimal"), null=True, blank=True)

    content_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey("identity.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey("identity.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("versi standar pelayanan")
        verbose_name_plural = _("versi standar pelayanan")
        ordering = ["service", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["service", "number"], name="version_unique_number"),
            models.UniqueConstraint(fields=["service"], condition=Q(status="draft"), name="one_draft_per_service"),
            models.UniqueConstraint(fields=["service"], condition=Q(status="published"), name="one_published_per_service"),
        ]

    def __str__(self):
        return f"{self.name} v{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT


class Requirement(models.Model):
    """(1) *persyaratan*: one document a service version requires."""

    version = models.ForeignKey(ServiceVersion, on_delete=models.CASCADE, related_name="requirements")
    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, related_name="+")
    mandatory = models.BooleanField(_("wajib"), default=True)
    note = models.CharField(_("catatan"), max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("persyaratan")
        verbose_name_plural = _("persyaratan")
        ordering = ["position", "id"]

    def __str__(self):
        return f"{self.document_type} ({'wajib' if self.mandatory else 'opsional'})"
