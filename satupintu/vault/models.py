import uuid

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.translation import gettext_lazy as _


class VaultStorage(FileSystemStorage):
    """Files sit outside the web root (settings.SATUPINTU_VAULT_DIR, read at each use) and have
    no public URL: they are served only through the permission-checked views."""

    @property
    def base_location(self):
        return settings.SATUPINTU_VAULT_DIR

    @property
    def location(self):
        import os

        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("vault files have no public URL")


def vault_storage():
    return VaultStorage()


def vault_path(instance, filename):
    # the stored name never contains what the uploader typed
    return f"{instance.owner_id}/{instance.uuid.hex}"


class Document(models.Model):
    """One file a person keeps in their vault (*berkas*), typed by the catalogue's document types
    and offered again to later applications until `valid_until` passes."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey("identity.User", on_delete=models.PROTECT, related_name="documents")
    document_type = models.ForeignKey("catalog.DocumentType", on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("jenis dokumen"))
    file = models.FileField(storage=vault_storage, upload_to=vault_path, max_length=200)
    original_name = models.CharField(_("nama berkas"), max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    valid_until = models.DateField(_("berlaku sampai"), null=True, blank=True)
    uploaded_by = models.ForeignKey("identity.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("dokumen")
        verbose_name_plural = _("dokumen")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "document_type", "-created_at"])]

    def __str__(self):
        return f"{self.document_type} — {self.original_name}"
