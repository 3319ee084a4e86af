from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("", views.home, name="home"),
    path("layanan/", views.service_list, name="service_list"),
    path("layanan/<slug:agency_slug>/<slug:slug>/", views.service_detail, name="service_detail"),
    path("layanan/<slug:agency_slug>/<slug:slug>/kelayakan/", views.service_eligibility, name="service_eligibility"),
    path("instansi/", views.agency_list, name="agency_list"),
    path("instansi/<slug:slug>/", views.agency_detail, name="agency_detail"),
]
