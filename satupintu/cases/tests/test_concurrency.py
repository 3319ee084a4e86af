"""Two officers deciding the same stage at the same instant: one wins, the other gets a
conflict, never a double transition (PostgreSQL row lock; SQLite's IMMEDIATE transactions)."""

import threading

import pytest
from django.db import connection

from satupintu.catalog.selectors import filing_catalogue
from satupintu.cases import services
from satupintu.cases.models import Application, StageTask, TaskStatus
from satupintu.core.errors import Conflict
from satupintu.core.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)


def race(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i):
        try:
            barrier.wait()
            calls[i]()
            results[i] = "ok"
        except Conflict as exc:
            results[i] = exc.code
        except Exception as exc:  # noqa: BLE001 - reported by the assertion
            results[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.parametrize("second", ["approve", "reject"])
def test_two_officers_decide_the_same_stage(submitted, officers, make_officer, agency, second):
    colleague = make_officer(agency, role="front_office", email="fo.b@example.test")
    task = StageTask.objects.get(application=submitted, status=TaskStatus.ACTIVE)
    for _round in range(5):  # several rounds on fresh applications make the overlap likely
        app = services.application_file(actor=submitted.applicant, catalogue=filing_catalogue(submitted.service),
                                        documents={submitted.version.requirements.get().id: submitted.attachments.get().document}).application
        task = StageTask.objects.get(application=app, status=TaskStatus.ACTIVE)
        decisions_before = AuditEntry.objects.filter(object_id=str(app.uuid)).count()
        other = (lambda: services.task_approve(actor=colleague, task=task)) if second == "approve" else \
            (lambda: services.task_reject(actor=colleague, task=task, reason="Tidak sesuai", legal_basis="Pasal 9"))
        results = race(lambda: services.task_approve(actor=officers["dpmptsp:front_office"], task=task), other)
        # the loser is told the stage (or, after a rejection, the whole application) is decided
        assert results.count("ok") == 1 and set(results) - {"ok"} <= {"task_not_active", "application_final"}, results
        task.refresh_from_db()
        app = Application.objects.get(pk=app.pk)
        assert task.status in (TaskStatus.APPROVED, TaskStatus.REJECTED)
        assert AuditEntry.objects.filter(object_id=str(app.uuid)).count() == decisions_before + 1
        if task.status == TaskStatus.APPROVED:
            assert app.status == "in_process"
            assert StageTask.objects.filter(application=app, stage_key="entri", status=TaskStatus.ACTIVE).count() == 1
        else:
            assert app.status == "rejected"


def test_two_calls_with_one_idempotency_key_at_once_file_one_application(submitted):
    """No look-up comes first: the loser meets the winner's key at its insert (on PostgreSQL it
    waits there for the winner's commit) and answers with the winner's application."""
    catalogue = filing_catalogue(submitted.service)
    documents = {submitted.version.requirements.get().id: submitted.attachments.get().document}
    before = Application.objects.count()
    for round_ in range(4):
        filings = [None, None]

        def file(i, key=f"same-{round_}"):
            filings[i] = services.application_file(actor=submitted.applicant, catalogue=catalogue, documents=documents,
                                                   idempotency_key=key, fingerprint="body")

        results = race(lambda: file(0), lambda: file(1))
        assert results == ["ok", "ok"], results
        assert sorted(f.created for f in filings) == [False, True]
        assert filings[0].application.pk == filings[1].application.pk
    assert Application.objects.count() == before + 4


def test_two_walk_in_calls_with_one_key_at_once_register_and_file_once(agency, officers):
    """A counter's retry racing its first call for a person without an account: the loser meets
    the winner's new account (or its key) and answers with the winner's application, not with a
    duplicate-account error."""
    from satupintu.catalog.tests.factories import make_service
    from satupintu.identity.models import User

    service = make_service(agency, slug="tanpa-dokumen", requirements=[{"type": "ktp-el", "mandatory": False}])
    catalogue = filing_catalogue(service)
    officer = officers["dpmptsp:front_office"]
    for round_ in range(4):
        nik = f"14710{1 + round_}1203880001"[:16]
        walk_in = {"nik": nik, "full_name": "Warga Loket", "phone": "", "email": f"loket{round_}@example.test"}
        filings = [None, None]

        def file(i, key=f"loket-{round_}"):
            filings[i] = services.application_file(actor=officer, catalogue=catalogue, documents={}, walk_in=dict(walk_in),
                                                   idempotency_key=key, fingerprint="body")

        results = race(lambda: file(0), lambda: file(1))
        assert results == ["ok", "ok"], results
        assert sorted(f.created for f in filings) == [False, True]
        assert filings[0].application.pk == filings[1].application.pk
        assert User.objects.filter(citizen__nik=nik).count() == 1


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks: PostgreSQL (SQLite has one writer)")
def test_two_taps_at_once_on_apply_online_make_one_draft(citizen, pbg):
    """The service page's button twice at the same instant: the citizen's user row is locked
    before the look-up for a draft, so the second call waits, finds the first one's draft and
    returns it (no second row, no second audit entry)."""
    for _round in range(5):  # several rounds make the overlap likely
        Application.objects.filter(applicant=citizen).delete()
        entries_before = AuditEntry.objects.filter(action="application.created").count()
        drafts = [None, None]

        def tap(i):
            drafts[i] = services.application_create(actor=citizen, service=pbg, reuse_draft=True)

        results = race(lambda: tap(0), lambda: tap(1))
        assert results == ["ok", "ok"], results
        assert sorted(d.created for d in drafts) == [False, True]
        assert drafts[0].application.pk == drafts[1].application.pk
        assert Application.objects.filter(applicant=citizen, status="draft").count() == 1
        assert AuditEntry.objects.filter(action="application.created").count() == entries_before + 1
