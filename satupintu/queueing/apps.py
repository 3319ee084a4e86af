from django.apps import AppConfig


class QueueingConfig(AppConfig):
    name = "satupintu.queueing"
    label = "queueing"
    verbose_name = "Antrian"
