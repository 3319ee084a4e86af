"""The process's copies of what filing reads (`selectors.service_for_filing`): one query while the
catalogue is unchanged, and never an answer the database would not give."""

import datetime

import pytest

from satupintu.catalog import selectors, services
from satupintu.catalog.models import Closure, Counter
from satupintu.catalog.tests.factories import BASE_CONTENT, SYSTEM, make_service
from satupintu.core import revisions
from satupintu.core.errors import NotFound
from satupintu.core.permissions import SystemActor

pytestmark = pytest.mark.django_db
PUBLIC = SystemActor("public")  # service_for_filing scopes like service_get: a citizen sees what the public sees


def _fresh(service):
    """What the database says now, read without the copies."""
    return selectors.filing_catalogue(selectors.service_get(actor=SYSTEM, key=service.slug, agency_slug=service.agency.slug))


def _same(a, b):
    assert a.service.pk == b.service.pk and a.service.current_version_id == b.service.current_version_id
    assert [(r.pk, r.document_type.code, r.document_type.name, r.mandatory) for r in a.requirements] == \
           [(r.pk, r.document_type.code, r.document_type.name, r.mandatory) for r in b.requirements]
    assert {k: (v.pk, v.short_name) for k, v in a.agencies.items()} == {k: (v.pk, v.short_name) for k, v in b.agencies.items()}
    assert a.calendar.closures == b.calendar.closures


def test_second_read_is_one_query_and_equals_the_database(pbg, citizen, django_assert_num_queries):
    first = selectors.service_for_filing(actor=citizen, key="pbg", agency_slug="dpmptsp")
    assert {"dpmptsp", "pupr", "bapenda"} == set(first.agencies)
    with django_assert_num_queries(1):  # the revision only
        again = selectors.service_for_filing(actor=citizen, key="pbg", agency_slug="dpmptsp")
    _same(again, _fresh(pbg))
    _same(again, first)


def test_each_caller_gets_its_own_service_object(pbg, citizen):
    one = selectors.service_for_filing(actor=citizen, key="pbg", agency_slug="dpmptsp")
    one.service.name = "changed by a caller"
    two = selectors.service_for_filing(actor=citizen, key="pbg", agency_slug="dpmptsp")
    assert two.service is not one.service and two.service.name == "Persetujuan Bangunan Gedung"


def test_a_uuid_in_any_spelling_is_one_copy(pbg, citizen, django_assert_num_queries):
    selectors.service_for_filing(actor=citizen, key=str(pbg.uuid))
    with django_assert_num_queries(1):
        got = selectors.service_for_filing(actor=citizen, key=pbg.uuid.hex.upper())
    assert got.service.pk == pbg.pk
    assert len(selectors._filings._items) == 1
    with pytest.raises(NotFound):
        selectors.service_for_filing(actor=citizen, key="not-a-uuid")


def test_a_new_version_is_seen_at_once(pbg, citizen, mall_admin):
    before = selectors.service_for_filing(actor=citizen, key="pbg", agency_slug="dpmptsp")
    draft = services.service_draft_start(actor=mall_admin, service=pbg)
    services.service_draft_update(actor=mall_admin, version=draft, changes={"requirements": [
        {"type": "ktp-el", "mandatory": True, "note": ""}, {"type": "kk", "mandatory": True, "note": ""}]})
    services.service_version_publish(actor=mall_admin, version=draft)
    after = selectors.service_for_filing(actor=citizen, key="pbg", agency_slug="dpmptsp")
    assert after.service.current_version_id == draft.pk != before.service.current_version_id
    assert [r.document_type.code for r in after.requirements] == ["ktp-el", "kk"]
    pbg.refresh_from_db()
    _same(after, _fresh(pbg))


def test_a_closure_added_or_removed_changes_the_calendar(pbg, citizen, mall_admin):
    day = datetime.date(2027, 3, 3)
    assert day not in selectors.service_for_filing(actor=citizen, key="pbg", agency_slug="dpmptsp").calendar.closures
    closure = services.closure_save(actor=mall_admin, closure=Closure(site=pbg.agency.site, date=day, reason="Banjir"))
    assert selectors.service_for_filing(actor=citizen, key="pbg", agency_slug="dpmptsp").calendar.closures[day] == "Banjir"
    services.closure_delete(actor=mall_admin, closure=closure)
    assert day not in selectors.service_for_filing(actor=citizen, key="pbg", agency_slug="dpmptsp").calendar.closures


def test_a_retired_service_is_not_served_from_the_copy(pbg, citizen, mall_admin):
    selectors.service_for_filing(actor=citizen, key="pbg", agency_slug="dpmptsp")
    services.service_retire(actor=mall_admin, service=pbg)
    with pytest.raises(NotFound):
        selectors.service_for_filing(actor=citizen, key="pbg", agency_slug="dpmptsp")


def test_what_the_public_does_not_see_is_never_kept(agency, citizen, make_officer):
    officer = make_officer(agency, role="front_office")
    draft = services.service_create(actor=SYSTEM, agency=agency, slug="baru", kind="perizinan",
                                    content={**BASE_CONTENT, "name": "Layanan baru"})
    got = selectors.service_for_filing(actor=officer, key="baru", agency_slug=agency.slug)
    assert got.service.pk == draft.service_id
    assert selectors._filings._items == {}
    with pytest.raises(NotFound):  # and another actor still does not see it
        selectors.service_for_filing(actor=citizen, key="baru", agency_slug=agency.slug)


def test_a_missing_revision_row_means_no_copies(pbg, citizen, django_assert_num_queries):
    from satupintu.core.models import Revision

    Revision.objects.filter(name="catalogue").delete()  # as a flushed test database
    selectors.service_for_filing(actor=citizen, key="pbg", agency_slug="dpmptsp")
    assert selectors._filings._items == {}


def _writes(agency, pbg, mall_admin):
    site = agency.site if agency else None
    return {
        "service_create": lambda: services.service_create(actor=mall_admin, agency=agency, slug="baru", kind="perizinan",
                                                          content={**BASE_CONTENT, "name": "Layanan baru"}),
        "service_draft_start": lambda: services.service_draft_start(actor=mall_admin, service=pbg),
        "service_draft_update": lambda: services.service_draft_update(
            actor=mall_admin, version=services.service_draft_start(actor=mall_admin, service=pbg), changes={"fee": 0}),
        "service_version_publish": lambda: services.service_version_publish(
            actor=mall_admin, version=services.service_draft_start(actor=mall_admin, service=pbg)),
        "service_sync_published": lambda: make_service(agency),
        "service_retire": lambda: services.service_retire(actor=mall_admin, service=pbg),
        "site_upsert": lambda: services.site_upsert(actor=mall_admin, slug=site.slug, data={"name": "MPP baru"}, closures={}),
        "document_types_upsert": lambda: services.document_types_upsert(
            actor=mall_admin, items=[{"code": "ktp-el", "name": "KTP elektronik", "description": ""}]),
        "agency_upsert": lambda: services.agency_upsert(
            actor=mall_admin, site=site, slug="pupr", data={"name": "Dinas PUPR baru", "short_name": "PUPR"}, counters=[]),
        "agency_save": lambda: services.agency_save(actor=mall_admin, agency=_renamed(agency), fields=["short_name"]),
        "counter_save": lambda: services.counter_save(actor=mall_admin, counter=Counter(agency=agency, code="Q9", name="Loket Q")),
        "closure_save": lambda: services.closure_save(
            actor=mall_admin, closure=Closure(site=site, date=datetime.date(2027, 3, 4), reason="Banjir")),
        "closure_delete": lambda: services.closure_delete(actor=mall_admin, closure=Closure.objects.create(
            site=site, date=datetime.date(2027, 3, 5), reason="Banjir")),
    }


def _renamed(agency):
    agency.short_name = "DPMPTSP Baru"
    return agency


@pytest.mark.parametrize("write", sorted(_writes(None, None, None)))
def test_every_catalogue_write_changes_the_revision(write, agency, pbg, mall_admin):
    """A write that forgot to change the revision would leave every process filing against its
    old copy: each catalogue service is walked here."""
    before = revisions.current(revisions.CATALOGUE)
    assert isinstance(before, str) and len(before) == 32
    _writes(agency, pbg, mall_admin)[write]()
    assert revisions.current(revisions.CATALOGUE) != before


def test_every_catalogue_service_is_walked():
    import inspect

    writers = {name for name, fn in inspect.getmembers(services, inspect.isfunction)
               if not name.startswith("_") and fn.__module__ == services.__name__}
    assert writers == set(_writes(None, None, None))


def test_a_write_that_changes_nothing_keeps_the_copies(agency, pbg, mall_admin):
    """Loading the same profile again (`make run` does, every time) leaves the copies valid."""
    data = {"name": "Dinas PUPR", "short_name": "PUPR"}
    services.agency_upsert(actor=mall_admin, site=agency.site, slug="pupr", data=data, counters=[])
    before = revisions.current(revisions.CATALOGUE)
    services.agency_upsert(actor=mall_admin, site=agency.site, slug="pupr", data=data, counters=[])
    services.document_types_upsert(actor=mall_admin, items=[{"code": "ktp-el", "name": "KTP-el", "description": ""}])
    assert revisions.current(revisions.CATALOGUE) == before
