from django.urls import path

from . import views

app_name = "identity"
urlpatterns = [
    path("daftar/", views.register, name="register"),
    path("masuk/", views.LoginView.as_view(), name="login"),
    path("keluar/", views.LogoutView.as_view(), name="logout"),
    path("profil/", views.profile, name="profile"),
]
