from django.urls import path

from . import views

app_name = "notify"
urlpatterns = [
    path("notifikasi/", views.inbox, name="inbox"),
    path("notifikasi/baca-semua/", views.read_all, name="read_all"),
    path("notifikasi/<str:key>/baca/", views.read_one, name="read"),
    path("kantor/webhook/", views.webhooks, name="webhooks"),
]
