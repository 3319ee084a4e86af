import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from satupintu.core import audit
from satupintu.core.models import AuditEntry
from satupintu.core.permissions import SystemActor

pytestmark = pytest.mark.django_db


def _append(n):
    actor = SystemActor("tests")
    for i in range(n):
        with transaction.atomic():
            audit.record(actor=actor, action="test.event", object_type="test", object_id=i, changes={"i": i})


def test_chain_verifies_and_links():
    _append(5)
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:]))
    assert audit.verify().ok
    call_command("audit_verify")


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        audit.record(actor=None, action="x", object_type="t", object_id=1)


def test_edited_actor_is_caught():
    _append(3)
    AuditEntry.objects.filter(seq=1).update(actor_label="orang lain")
    assert audit.verify().broken_seq == 1


def test_edited_row_is_caught():
    _append(5)
    AuditEntry.objects.filter(seq=3).update(changes={"i": 99})  # tampering behind the services' back
    result = audit.verify()
    assert not result.ok and result.broken_seq == 3
    with pytest.raises(CommandError, match="#3"):
        call_command("audit_verify")


def test_deleted_row_is_caught():
    _append(5)
    AuditEntry.objects.filter(seq=2).delete()
    result = audit.verify()
    assert not result.ok and result.broken_seq == 2


def test_deleted_last_row_is_caught():
    _append(3)
    AuditEntry.objects.filter(seq=3).delete()
    assert not audit.verify().ok


def test_swapped_rows_are_caught():
    _append(5)
    a, b = AuditEntry.objects.get(seq=2), AuditEntry.objects.get(seq=4)
    # swap the contents of two rows but keep their positions
    for target, source in ((2, b), (4, a)):
        AuditEntry.objects.filter(seq=target).update(
            object_id=source.object_id, changes=source.changes, digest=source.digest, at=source.at
        )
    result = audit.verify()
    assert not result.ok and result.broken_seq == 2
