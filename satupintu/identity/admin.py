from django.contrib import admin

from satupintu.catalog.admin import ScopedAdmin
from satupintu.core.models import AuditEntry

from .models import CitizenProfile, User


@admin.register(User)
class UserAdmin(ScopedAdmin):
    """Accounts are created by registration, `load_profile` and the staff pages (`/kantor/petugas/`,
    where officers are also changed and deactivated through `officer_update`); the admin shows them only."""

    list_display = ("full_name", "email", "phone", "role", "agency", "is_active")
    list_filter = ("role", ("agency", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("agency",)
    search_fields = ("full_name", "email", "phone")
    fields = ("full_name", "email", "phone", "role", "agency", "is_active", "date_joined", "last_login")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CitizenProfile)
class CitizenProfileAdmin(ScopedAdmin):
    agency_field = None
    list_display = ("user", "nik")
    list_select_related = ("user",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ScopedAdmin):
    agency_field = None
    list_display = ("seq", "at", "actor_label", "action", "object_type", "object_id")
    list_filter = ("action",)
    search_fields = ("object_id", "actor_label")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
