"""The staff pages under /kantor/petugas/: agency admins and the mall administrator manage officers."""

from django.urls import path

from . import views

app_name = "staff"
urlpatterns = [
    path("kantor/petugas/", views.staff_list, name="list"),
    path("kantor/petugas/baru/", views.staff_create, name="create"),
    path("kantor/petugas/<str:uuid>/", views.staff_edit, name="edit"),
]
