from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("permohonan/", views.my_applications, name="mine"),
    path("permohonan/<uuid:uuid>/", views.detail, name="detail"),
    path("layanan/<slug:agency_slug>/<slug:slug>/ajukan/", views.start, name="start"),
    path("lacak/", views.track, name="track"),
    path("kantor/", views.office_inbox, name="inbox"),
    path("kantor/permohonan/baru/", views.walk_in, name="walk_in"),
    path("kantor/permohonan/<uuid:uuid>/", views.office_detail, name="office_detail"),
]
