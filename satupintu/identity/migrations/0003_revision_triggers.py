"""The identity revision (`core.revisions.IDENTITY`) changes with every write to users (but a
login's `last_login`), citizen profiles, and the change or deletion of API tokens (a login's new
token changes nothing: a token that was not found is not kept): the web
processes' copies of tokens with their users, and of the officers to notify, depend on them.
Keep the column lists whole: `core/tests/test_revisions.py` compares them with the models."""

from django.db import migrations

from satupintu.core.migration_ops import RevisionTriggers

USER_COLUMNS = ["id", "password", "is_superuser", "uuid", "email", "phone", "full_name", "role", "agency_id",
                "is_active", "is_staff", "date_joined"]
CITIZEN_COLUMNS = ["id", "user_id", "nik", "kk_number", "created_at"]
TOKEN_COLUMNS = ["id", "user_id", "key_hash", "prefix", "created_at", "expires_at"]


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0003_revision"),
        ("identity", "0002_staff_index"),
    ]

    operations = [
        RevisionTriggers("identity_user", "identity", USER_COLUMNS),
        RevisionTriggers("identity_citizenprofile", "identity", CITIZEN_COLUMNS),
        RevisionTriggers("identity_apitoken", "identity", TOKEN_COLUMNS, insert=False),  # unknown tokens are not kept
    ]
