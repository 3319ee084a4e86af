from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "satupintu.profiles"
    label = "profiles"
    verbose_name = "Profil penerapan"
