import logging
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from satupintu.core import audit
from satupintu.core.models import AuditChainHead, AuditEntry
from satupintu.core.permissions import SystemActor

pytestmark = pytest.mark.django_db


def _append(n, seal=True):
    actor = SystemActor("tests")
    for i in range(n):
        with transaction.atomic():
            audit.record(actor=actor, action="test.event", object_type="test", object_id=i, changes={"i": i})
    if seal:  # tests run inside one transaction: the after-commit seal never fires by itself
        audit.seal()


def test_chain_verifies_and_links():
    _append(5)
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:]))
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (5, entries[-1].hash)
    assert audit.verify().ok
    call_command("audit_verify")


def test_record_leaves_the_entry_pending_until_sealed():
    _append(2, seal=False)
    entry = AuditEntry.objects.get(object_id="0")
    assert (entry.seq, entry.prev_hash, entry.hash) == (None, None, None)
    assert entry.digest == audit._sha(audit.canonical({"i": 0}))
    result = audit.verify()
    assert result.ok and result.checked == 0 and result.pending == 2
    assert audit.seal() == 2
    assert audit.seal() == 0
    result = audit.verify()
    assert result.ok and result.checked == 2 and result.pending == 0


def test_seal_takes_pending_entries_in_insert_order_in_batches():
    _append(5, seal=False)
    assert audit.seal(limit=2) == 2
    assert audit.verify().ok and audit.verify().pending == 3
    _append(1, seal=False)  # written while older entries still wait: sealed after them
    assert audit.seal_all(batch=2) == 4
    by_seq = list(AuditEntry.objects.order_by("seq").values_list("object_id", flat=True))
    assert by_seq == ["0", "1", "2", "3", "4", "0"]
    assert audit.verify().ok


def test_one_seal_is_asked_per_transaction_and_runs_after_commit(django_capture_on_commit_callbacks):
    actor = SystemActor("tests")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            for i in range(3):
                audit.record(actor=actor, action="test.event", object_type="test", object_id=i)
    assert len(callbacks) == 1
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]


def test_a_rolled_back_savepoint_does_not_lose_the_seal(django_capture_on_commit_callbacks):
    actor = SystemActor("tests")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    audit.record(actor=actor, action="test.rolled_back", object_type="test", object_id=1)
                    raise ValueError
            except ValueError:
                pass
            audit.record(actor=actor, action="test.kept", object_type="test", object_id=2)
    assert len(callbacks) == 1
    assert list(AuditEntry.objects.values_list("action", "seq")) == [("test.kept", 1)]


def test_a_failing_seal_never_reaches_the_request(monkeypatch, caplog):
    def broken(limit):
        raise RuntimeError("database went away")

    monkeypatch.setattr(audit, "seal", broken)
    with caplog.at_level(logging.ERROR, logger="satupintu.core.audit"):
        audit._seal_after_commit()  # must not raise
    assert "sealing after commit failed" in caplog.text


def test_seal_on_commit_can_be_left_to_cron(settings, django_capture_on_commit_callbacks):
    settings.SATUPINTU_AUDIT_SEAL_ON_COMMIT = False
    with django_capture_on_commit_callbacks() as callbacks:
        with transaction.atomic():
            audit.record(actor=None, action="x", object_type="t", object_id=1)
    assert callbacks == []


@pytest.mark.django_db(transaction=True)
def test_committed_entries_are_sealed_right_after_commit():
    _append(3, seal=False)
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]
    assert audit.verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_busy_process_seals_once_per_interval_and_its_sealer_thread_seals_the_rest(settings, monkeypatch):
    settings.SATUPINTU_AUDIT_SEAL_INTERVAL = 0.2
    monkeypatch.setattr(audit, "_next_seal_at", 0.0)
    try:
        _append(3, seal=False)
        # the first commit sealed at once; the next two fell inside the interval
        assert list(AuditEntry.objects.order_by("id").values_list("seq", flat=True)) == [1, None, None]
        for _ in range(50):
            if not audit.pending_count():
                break
            time.sleep(0.05)
        assert audit.pending_count() == 0 and audit.verify().ok
        _append(1, seal=False)  # the thread keeps serving later commits
        for _ in range(50):
            if not audit.pending_count():
                break
            time.sleep(0.05)
        assert audit.pending_count() == 0
    finally:
        audit._sealer.stop()  # its connection must not outlive the test database


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        audit.record(actor=None, action="x", object_type="t", object_id=1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only (SQLite has one writer)")
def test_writers_do_not_wait_for_a_sealer_and_a_second_sealer_skips(settings):
    settings.SATUPINTU_AUDIT_SEAL_ON_COMMIT = False
    _append(1)
    locked, release = threading.Event(), threading.Event()

    def hold_head():
        from django.db import connection as thread_connection

        with transaction.atomic():
            AuditChainHead.objects.select_for_update().get(pk=1)
            locked.set()
            release.wait(10)
        thread_connection.close()

    holder = threading.Thread(target=hold_head)
    holder.start()
    try:
        assert locked.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # a wait on the head would fail the test
        with transaction.atomic():
            audit.record(actor=None, action="test.while_sealing", object_type="t", object_id=2)
        assert audit.seal() == 0  # the head is busy: skip, don't queue
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert audit.seal() == 1
    assert audit.verify().ok


def test_audit_verify_seals_pending_entries_first(capsys):
    _append(3, seal=False)
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "3 entri tertunda disegel" in out and "3 entri diperiksa" in out
    assert audit.pending_count() == 0


def test_audit_seal_command(capsys):
    _append(2, seal=False)
    call_command("audit_seal")
    assert "2 entri disegel; 0 masih tertunda" in capsys.readouterr().out
    assert audit.verify().checked == 2


def test_audit_seal_task():
    from satupintu.core.tasks import audit_seal

    _append(2, seal=False)
    assert audit_seal.call() == 2


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


def test_unsealing_a_row_is_caught():
    _append(4)
    AuditEntry.objects.filter(seq=2).update(seq=None, prev_hash=None, hash=None)  # pretend it is pending
    result = audit.verify()
    assert not result.ok and result.broken_seq == 2 and result.pending == 1


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


def test_reordered_rows_are_caught():
    _append(5)
    # move row 4 before row 2 and row 2 after row 3, hashes and all
    AuditEntry.objects.filter(seq=2).update(seq=100)
    AuditEntry.objects.filter(seq=4).update(seq=2)
    AuditEntry.objects.filter(seq=100).update(seq=4)
    result = audit.verify()
    assert not result.ok and result.broken_seq == 2
