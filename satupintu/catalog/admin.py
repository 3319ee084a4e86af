"""Django admin for the mall administrator (everything) and agency admins (their own agency).

Every save goes through a service function, so the admin obeys the same permission checks
and leaves the same audit entries as the API."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from satupintu.core.errors import DomainError
from satupintu.core.permissions import AGENCY_ADMIN, is_mall_admin

from . import services
from .content import CONTENT_FIELDS
from .models import Agency, Closure, Counter, DocumentType, Requirement, Service, ServiceVersion, Site, VersionStatus


class ScopedAdmin(admin.ModelAdmin):
    """Visible to the mall admin; to agency admins only for their own agency's rows.

    `agency_field` is the lookup from a row to its agency id; None means mall administrator only.
    """

    agency_field: str | None = "agency"

    def _is_agency_admin(self, request):
        return request.user.is_active and request.user.role == AGENCY_ADMIN and self.agency_field is not None

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if is_mall_admin(request.user):
            return qs
        if self._is_agency_admin(request):
            return qs.filter(**{self.agency_field: request.user.agency_id})
        return qs.none()

    def has_module_permission(self, request):
        return is_mall_admin(request.user) or self._is_agency_admin(request)

    def _in_scope(self, request, obj):
        if obj is None or is_mall_admin(request.user):
            return True
        return type(obj).objects.filter(pk=obj.pk, **{self.agency_field: request.user.agency_id}).exists()

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and self._in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def changeform_view(self, request, *args, **kwargs):
        """A refusal from a service function (permission, validation) is shown, not a 500;
        the admin's transaction has already been rolled back when it reaches here."""
        try:
            return super().changeform_view(request, *args, **kwargs)
        except DomainError as exc:
            detail = "; ".join(f"{k}: {' '.join(v) if isinstance(v, list) else v}" for k, v in (exc.details or {}).items()) \
                if isinstance(exc.details, dict) else ""
            self.message_user(request, f"{exc.message} {detail}".strip(), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(Site)
class SiteAdmin(ScopedAdmin):
    agency_field = None
    list_display = ("name", "timezone", "region_code")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the site comes from the profile files


@admin.register(Closure)
class ClosureAdmin(ScopedAdmin):
    agency_field = None
    list_display = ("date", "reason", "site")

    def has_delete_permission(self, request, obj=None):
        return is_mall_admin(request.user)

    def save_model(self, request, obj, form, change):
        services.closure_save(actor=request.user, closure=obj)

    def delete_model(self, request, obj):
        services.closure_delete(actor=request.user, closure=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.closure_delete(actor=request.user, closure=obj)


@admin.register(Agency)
class AgencyAdmin(ScopedAdmin):
    agency_field = "pk"
    list_display = ("short_name", "name", "kind", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "short_name")
    fields = ("site", "slug", "name", "short_name", "kind", "description", "phone", "email", "website", "position", "is_active")

    def has_add_permission(self, request):
        return is_mall_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return is_mall_admin(request.user)

    def get_readonly_fields(self, request, obj=None):
        return ("site", "slug") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        services.agency_save(actor=request.user, agency=obj, fields=list(form.changed_data))


@admin.register(Counter)
class CounterAdmin(ScopedAdmin):
    list_display = ("code", "name", "agency", "is_active")
    list_filter = (("agency", admin.RelatedOnlyFieldListFilter), "is_active")
    list_select_related = ("agency",)
    fields = ("agency", "code", "name", "is_active")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agency" and not is_mall_admin(request.user):
            kwargs["queryset"] = Agency.objects.filter(pk=request.user.agency_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        services.counter_save(actor=request.user, counter=obj)


@admin.register(DocumentType)
class DocumentTypeAdmin(ScopedAdmin):
    """Shared reference list: every catalogue maintainer may read it (requirement pickers)."""

    agency_field = None
    list_display = ("code", "name")
    search_fields = ("code", "name")

    def has_module_permission(self, request):
        return is_mall_admin(request.user) or (request.user.is_active and request.user.role == AGENCY_ADMIN)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs if self.has_module_permission(request) else qs.none()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Service)
class ServiceAdmin(ScopedAdmin):
    list_display = ("name", "agency", "kind", "current_version", "is_active")
    list_filter = ("kind", "is_active", ("agency", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("agency", "current_version")
    search_fields = ("name", "slug")
    readonly_fields = ("agency", "slug", "kind", "name", "current_version", "is_active")
    fields = readonly_fields
    actions = ["start_draft"]

    def has_add_permission(self, request):
        return False  # new services: API (POST /api/v1/services) or the profile files

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Buat draf baru dari versi terbit"))
    def start_draft(self, request, queryset):
        for service in queryset.select_related("agency"):
            try:
                version = services.service_draft_start(actor=request.user, service=service)
            except DomainError as exc:
                self.message_user(request, f"{service}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("Draf v%(n)d dibuat untuk %(s)s.") % {"n": version.number, "s": service})


class RequirementInline(admin.TabularInline):
    model = Requirement
    fields = ("document_type", "mandatory", "note", "position")
    autocomplete_fields = ("document_type",)
    extra = 0

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.status == VersionStatus.DRAFT

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


@admin.register(ServiceVersion)
class ServiceVersionAdmin(ScopedAdmin):
    agency_field = "service__agency"
    list_display = ("name", "number", "status", "service_agency", "published_at")
    list_filter = ("status", ("service__agency", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("service__agency",)
    search_fields = ("name",)
    inlines = [RequirementInline]
    fields = ("service", "number", "status", *[f for f in CONTENT_FIELDS if f != "requirements"])
    actions = ["publish"]

    @admin.display(description=_("instansi"))
    def service_agency(self, obj):
        return obj.service.agency.short_name

    def get_readonly_fields(self, request, obj=None):
        if obj is None or obj.status != VersionStatus.DRAFT:
            return self.fields
        return ("service", "number", "status")

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        request._pending_version_changes = {f: form.cleaned_data[f] for f in form.changed_data if f in CONTENT_FIELDS}

    def save_related(self, request, form, formsets, change):
        """Content and requirements go to the service function together, in its transaction."""
        changes = getattr(request, "_pending_version_changes", {})
        for formset in formsets:
            if formset.model is Requirement and formset.has_changed():
                rows = [f.cleaned_data for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
                rows.sort(key=lambda r: r.get("position") or 0)
                changes["requirements"] = [
                    {"type": r["document_type"].code, "mandatory": r["mandatory"], "note": r.get("note", "")} for r in rows
                ]
        if changes:
            version = ServiceVersion.objects.get(pk=form.instance.pk)
            services.service_draft_update(actor=request.user, version=version, changes=changes)

    def construct_change_message(self, request, form, formsets, add=False):
        # formsets are applied by the service function, not saved by the admin
        return [{"changed": {"fields": form.changed_data}}]

    @admin.action(description=_("Terbitkan draf terpilih"))
    def publish(self, request, queryset):
        for version in queryset.select_related("service__agency"):
            try:
                services.service_version_publish(actor=request.user, version=version)
            except DomainError as exc:
                self.message_user(request, f"{version}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("%(v)s diterbitkan.") % {"v": version})
