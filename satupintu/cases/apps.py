from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "satupintu.cases"
    label = "cases"
    verbose_name = "Permohonan"
