from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "satupintu.vault"
    label = "vault"
    verbose_name = "Brankas dokumen"
