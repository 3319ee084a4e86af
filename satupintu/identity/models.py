import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Warga")
    FRONT_OFFICE = "front_office", _("Petugas front office")
    VERIFIER = "verifier", _("Verifikator / back office")
    TECHNICAL_REVIEWER = "technical_reviewer", _("Tim teknis")
    HEAD = "head", _("Kepala / penandatangan")
    AGENCY_ADMIN = "agency_admin", _("Admin instansi")
    MALL_ADMIN = "mall_admin", _("Pengelola MPP")


# a tuple, not a set: its order is written into a migration's check constraint
OFFICER_ROLES = (Role.FRONT_OFFICE, Role.TECHNICAL_REVIEWER, Role.HEAD, Role.VERIFIER, Role.AGENCY_ADMIN)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email=None, password=None, **extra):
        email = self.normalize_email(email).lower() if email else None
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(role=Role.MALL_ADMIN, is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """One account for every agency's services: a citizen, an officer, or the mall admin.

    A person signs in with an email address or an Indonesian phone number (+62, stored E.164).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("email"), unique=True, null=True, blank=True)
    phone = models.CharField(_("nomor HP"), max_length=20, unique=True, null=True, blank=True)
    full_name = models.CharField(_("nama lengkap"), max_length=150)
    role = models.CharField(_("peran"), max_length=24, choices=Role.choices, default=Role.CITIZEN)
    agency = models.ForeignKey(
        "catalog.Agency", verbose_name=_("instansi"), null=True, blank=True, on_delete=models.PROTECT, related_name="officers"
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()
    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("akun")
        verbose_name_plural = _("akun")
        constraints = [
            models.CheckConstraint(
                name="user_has_login", condition=Q(email__isnull=False) | Q(phone__isnull=False)
            ),
            # Officers belong to exactly one agency; citizens and the mall admin to none.
            models.CheckConstraint(
                name="officer_has_agency",
                condition=(Q(role__in=[r.value for r in OFFICER_ROLES]) & Q(agency__isnull=False))
                | (~Q(role__in=[r.value for r in OFFICER_ROLES]) & Q(agency__isnull=True)),
            ),
        ]
        # the staff list reads the officers among (at city scale) hundreds of thousands of citizens
        indexes = [models.Index(fields=["agency", "full_name"], condition=~Q(role="citizen"), name="identity_staff")]

    def __str__(self):
        return f"{self.full_name} <{self.email or self.phone}>"

    @property
    def is_officer(self) -> bool:
        return self.role in OFFICER_ROLES

    @property
    def is_mall_admin(self) -> bool:
        return self.role == Role.MALL_ADMIN


class CitizenProfile(models.Model):
    """The citizen side of an account: NIK (unique) and optional KK; the rest is derived from the NIK."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="citizen")
    nik = models.CharField("NIK", max_length=16, unique=True)
    kk_number = models.CharField(_("nomor KK"), max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("profil warga")
        verbose_name_plural = _("profil warga")

    def __str__(self):
        return f"{self.user.full_name} ({self.nik[:6]}…)"

    @property
    def facts(self):
        from .nik import parse_nik

        return parse_nik(self.nik)


class ApiToken(models.Model):
    """A bearer token for the API, stored hashed; the plain token is shown once at login."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"{self.prefix}… ({self.user_id})"
