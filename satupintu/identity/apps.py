from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "satupintu.identity"
    label = "identity"
    verbose_name = "Identitas"

    def ready(self):
        from satupintu.core import revisions

        from .models import ApiToken, CitizenProfile, User

        # web processes keep copies of tokens' users and of the officers to notify (selectors)
        revisions.watch(User, revisions.IDENTITY, ignore=["last_login"])  # written by every login
        revisions.watch(CitizenProfile, revisions.IDENTITY)
        revisions.watch(ApiToken, revisions.IDENTITY)
