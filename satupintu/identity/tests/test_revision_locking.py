"""Writes to users change the identity revision row (`core.revisions`), which the writing
transaction then holds until it commits. A service that locks a user row first must not make a
transaction that already holds the revision row, and then refers to that user, wait on it."""

import threading
import time

import pytest
from django.db import connection, transaction

from satupintu.identity.models import User
from satupintu.identity.services import password_change
from satupintu.notify.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Sandi-Lama-2026"


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks: PostgreSQL")
def test_a_password_change_and_a_transaction_holding_the_revision_do_not_deadlock(site):
    changer = User.objects.create_user(email="ganti@example.test", password=PASSWORD, full_name="Pengganti Sandi")
    other = User.objects.create_user(email="lain@example.test", password=PASSWORD, full_name="Warga Lain")
    holds_revision, errors = threading.Event(), {}

    def changing():  # locks its user row, then its UPDATE needs the revision row
        holds_revision.wait(5)
        try:
            password_change(actor=User.objects.get(pk=changer.pk), current_password=PASSWORD, new_password="Sandi-Baru-2026!")
        except Exception as exc:  # noqa: BLE001
            errors["change"] = repr(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=changing)
    thread.start()
    try:
        with transaction.atomic():  # as a walk-in filing that registers a citizen, then notifies officers
            User.objects.filter(pk=other.pk).update(full_name="Warga Lain Baru")  # holds the revision row
            holds_revision.set()
            time.sleep(0.5)  # the password change now holds its user row and waits for the revision row
            Notification.objects.create(recipient=changer, event="application.stage_assigned", context={})
    except Exception as exc:  # noqa: BLE001
        errors["filing"] = repr(exc)
    thread.join(10)
    assert errors == {}
    assert User.objects.get(pk=changer.pk).check_password("Sandi-Baru-2026!")
