from django.contrib import admin
from django.urls import include, path

from .api import api, django_error_handler

admin.site.site_header = "SatuPintu — Administrasi"
admin.site.site_title = "SatuPintu"

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("akun/", include("satupintu.identity.urls")),
    path("antrian/", include("satupintu.queueing.urls")),
    path("dokumen/", include("satupintu.vault.urls")),
    path("", include("satupintu.identity.staff_urls")),
    path("", include("satupintu.cases.urls")),
    path("", include("satupintu.notify.urls")),
    path("", include("satupintu.catalog.urls")),
]

handler400 = django_error_handler(400)
handler403 = django_error_handler(403)
handler404 = django_error_handler(404)
handler500 = django_error_handler(500)
