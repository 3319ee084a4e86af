from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "satupintu.notify"
    label = "notify"
    verbose_name = "Notifikasi"
