"""Officer accounts managed by agency admins and the mall administrator: create, rename, change
role, deactivate (sign-in, sessions and tokens end; claimed stages are released), scoped reads,
the API and the /kantor/petugas/ pages."""

import pytest

from conftest import PASSWORD
from satupintu.cases import services as cases
from satupintu.cases.models import StageTask, TaskStatus
from satupintu.core.errors import Forbidden, InvalidInput, NotAuthenticated, NotFound
from satupintu.core.models import AuditEntry
from satupintu.identity import selectors, services
from satupintu.identity.models import ApiToken, User
from satupintu.queueing import services as queueing
from satupintu.queueing.models import CounterSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(agency, make_officer):
    return make_officer(agency, role="agency_admin", email="admin.dpmptsp@example.test")


@pytest.fixture
def other_admin(other_agency, make_officer):
    return make_officer(other_agency, role="agency_admin", email="admin.disdukcapil@example.test")


@pytest.fixture
def clerk(agency, make_officer):
    return make_officer(agency, role="front_office", email="loket.dpmptsp@example.test")


def footprint():
    """What a refused change must leave as it was."""
    return (list(User.objects.order_by("pk").values_list("pk", "full_name", "role", "is_active", "agency_id")),
            AuditEntry.objects.count(), ApiToken.objects.count())


# ---------------------------------------------------------------------------- services

def test_agency_admin_creates_an_officer_of_their_own_agency_only(admin, agency, other_agency):
    officer = services.officer_create(actor=admin, email="baru@example.test", full_name="Rina Putri", role="verifier",
                                      password=PASSWORD, agency=agency)
    assert (officer.agency_id, officer.role, officer.is_staff) == (agency.pk, "verifier", False)
    entry = AuditEntry.objects.filter(action="officer.created").latest("id")
    assert entry.actor_id == admin.pk and entry.object_id == str(officer.uuid)
    before = footprint()
    with pytest.raises(Forbidden) as exc:
        services.officer_create(actor=admin, email="lain@example.test", full_name="Budi", role="verifier",
                                password=PASSWORD, agency=other_agency)
    assert exc.value.code == "foreign_agency"
    with pytest.raises(Forbidden):  # nor another mall administrator
        services.officer_create(actor=admin, email="mpp@example.test", full_name="Budi", role="mall_admin",
                                password=PASSWORD, agency=None)
    assert footprint() == before


def test_front_office_and_citizens_manage_nobody(clerk, citizen, agency, admin):
    for actor in (clerk, citizen):
        with pytest.raises(Forbidden):
            services.officer_create(actor=actor, email="x@example.test", full_name="X", role="verifier",
                                    password=PASSWORD, agency=agency)
        with pytest.raises(Forbidden):
            services.officer_update(actor=actor, officer=admin, full_name="Diganti")
        with pytest.raises(Forbidden):
            selectors.officer_list(actor=actor)


def test_the_mall_admin_creates_mall_admins_and_officers_of_any_agency(mall_admin, other_agency):
    second = services.officer_create(actor=mall_admin, email="mpp2@example.test", full_name="Pengelola Dua",
                                     role="mall_admin", password=PASSWORD)
    assert second.agency_id is None and second.is_staff
    officer = services.officer_create(actor=mall_admin, email="capil@example.test", full_name="Andi",
                                      role="agency_admin", password=PASSWORD, agency=other_agency)
    assert officer.is_staff  # the agency admin reaches the (scoped) admin site


def test_deactivating_ends_sign_in_tokens_and_sessions_and_releases_claims(client, submitted, officers, agency,
                                                                           make_officer):
    admin = make_officer(agency, role="agency_admin", email="admin.dpmptsp@example.test")
    fo = officers["dpmptsp:front_office"]
    task = StageTask.objects.get(application=submitted, status=TaskStatus.ACTIVE)
    cases.task_claim(actor=fo, task=task)
    token = services.api_token_issue(actor=fo)[1]
    client.force_login(fo)
    assert client.get("/kantor/").status_code == 200

    officer, released = services.officer_update(actor=admin, officer=fo, is_active=False)

    assert released == 1 and not officer.is_active
    task.refresh_from_db()
    assert task.claimed_by_id is None and task.claimed_at is None
    assert not ApiToken.objects.filter(user=fo).exists()
    assert client.get("/kantor/").status_code == 302  # the session ends at the next request
    assert client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    with pytest.raises(NotAuthenticated):
        services.user_sign_in(identifier=fo.email, password=PASSWORD, channel="web", ip="127.0.0.1")
    entry = AuditEntry.objects.filter(action="officer.updated").latest("id")
    assert entry.changes["is_active"] == {"from": True, "to": False} and entry.changes["released"] == 1
    release = AuditEntry.objects.filter(action="application.task_released").latest("id")
    assert release.object_id == str(submitted.uuid)
    assert release.changes["released"]["user"] == str(fo.uuid) and release.changes["why"] == "officer_deactivated"
    # reactivated, they sign in again (their claim stays released)
    services.officer_update(actor=admin, officer=fo, is_active=True)
    assert services.user_sign_in(identifier=fo.email, password=PASSWORD, channel="web", ip="127.0.0.1").pk == fo.pk


@pytest.fixture
def queue_group(agency, pbg):
    from satupintu.catalog.tests.factories import SYSTEM

    return queueing.queue_group_create(actor=SYSTEM, agency=agency, prefix="A", name="Perizinan", services=[pbg])


def open_counters(agency, queue_group, *officers):
    """Each officer opens a counter of the agency (the first of its counters, then new ones)."""
    from satupintu.catalog.models import Counter

    counters = [agency.counters.order_by("pk").first()]
    counters += [Counter.objects.create(agency=agency, site=agency.site, code=f"T{n}", name=f"Loket T{n}")
                 for n in range(1, len(officers))]
    for officer, counter in zip(officers, counters):
        queueing.counter_open(actor=officer, counter=counter, groups=[queue_group])
    return counters


def test_deactivating_closes_the_counters_the_officer_has_open(admin, clerk, agency, queue_group, make_officer):
    colleague = make_officer(agency, role="front_office", email="loket2.dpmptsp@example.test")
    mine, theirs = open_counters(agency, queue_group, clerk, colleague)

    services.officer_update(actor=admin, officer=clerk, is_active=False)

    assert not CounterSession.objects.filter(counter=mine, closed_at__isnull=True).exists()
    assert CounterSession.objects.filter(counter=theirs, officer=colleague, closed_at__isnull=True).exists()
    closed = AuditEntry.objects.filter(action="counter.closed").get()
    assert (closed.actor_id, closed.object_id) == (admin.pk, str(mine.pk))
    assert closed.changes == {"officer": str(clerk.uuid), "why": "officer_deactivated"}
    assert AuditEntry.objects.filter(action="officer.updated").latest("id").changes["counters_closed"] == 1
    # the counter can be opened again by someone who may
    queueing.counter_open(actor=colleague, counter=mine, groups=[queue_group])


def test_a_rename_or_a_new_role_leaves_the_counter_open(admin, clerk, agency, queue_group):
    (counter,) = open_counters(agency, queue_group, clerk)
    services.officer_update(actor=admin, officer=clerk, full_name="Nama Baru", role="verifier")
    assert CounterSession.objects.filter(counter=counter, officer=clerk, closed_at__isnull=True).exists()
    assert not AuditEntry.objects.filter(action="counter.closed").exists()
    assert "counters_closed" not in AuditEntry.objects.filter(action="officer.updated").latest("id").changes


def test_a_refused_deactivation_leaves_the_counter_open(other_admin, clerk, agency, queue_group):
    (counter,) = open_counters(agency, queue_group, clerk)
    with pytest.raises(Forbidden):
        services.officer_update(actor=other_admin, officer=clerk, is_active=False)
    assert CounterSession.objects.filter(counter=counter, closed_at__isnull=True).exists()


def test_a_new_role_releases_the_stages_the_old_one_claimed(submitted, officers, agency, make_officer):
    admin = make_officer(agency, role="agency_admin", email="admin.dpmptsp@example.test")
    fo = officers["dpmptsp:front_office"]
    task = StageTask.objects.get(application=submitted, status=TaskStatus.ACTIVE)
    cases.task_claim(actor=fo, task=task)
    revision = type(submitted).objects.get(pk=submitted.pk).revision
    officer, released = services.officer_update(actor=admin, officer=fo, role="verifier")
    assert (officer.role, released) == ("verifier", 1)
    task.refresh_from_db()
    assert task.claimed_by_id is None
    assert type(submitted).objects.get(pk=submitted.pk).revision == revision + 1  # open forms see the change
    assert AuditEntry.objects.filter(action="application.task_released").latest("id").changes["why"] == "officer_role_changed"


def test_nobody_changes_their_own_role_or_deactivates_themself(mall_admin, agency):
    second = services.officer_create(actor=mall_admin, email="mpp2@example.test", full_name="Pengelola Dua",
                                     role="mall_admin", password=PASSWORD)
    before = footprint()
    for change in ({"is_active": False}, {"role": "mall_admin", "is_active": False}):
        with pytest.raises(Forbidden) as exc:
            services.officer_update(actor=mall_admin, officer=mall_admin, **change)
        assert exc.value.code == "own_account"
    assert footprint() == before
    services.officer_update(actor=mall_admin, officer=mall_admin, full_name="Nama Baru")  # a name is fine
    assert User.objects.get(pk=mall_admin.pk).full_name == "Nama Baru"
    services.officer_update(actor=second, officer=mall_admin, is_active=False)  # another one may
    assert not User.objects.get(pk=mall_admin.pk).is_active


def test_heads_and_agency_admins_are_the_mall_administrators_to_appoint(admin, clerk, agency, mall_admin, officers):
    head = officers["dpmptsp:head"]
    before = footprint()
    for call in (
        lambda: services.officer_create(actor=admin, email="kepala2@example.test", full_name="Kepala Dua", role="head",
                                        password=PASSWORD, agency=agency),
        lambda: services.officer_create(actor=admin, email="admin2@example.test", full_name="Admin Dua",
                                        role="agency_admin", password=PASSWORD, agency=agency),
        lambda: services.officer_update(actor=admin, officer=clerk, role="head"),  # no second signer of their own
        lambda: services.officer_update(actor=admin, officer=head, is_active=False),
        lambda: services.officer_update(actor=admin, officer=head, full_name="Diganti"),
        lambda: services.officer_update(actor=admin, officer=admin, role="verifier"),
    ):
        with pytest.raises(Forbidden) as exc:
            call()
        assert exc.value.code == "role_reserved"
    assert footprint() == before
    assert services.can_manage_officer(admin, clerk) and not services.can_manage_officer(admin, head)
    services.officer_update(actor=mall_admin, officer=clerk, role="head")  # the mall administrator appoints
    assert User.objects.get(pk=clerk.pk).role == "head"


def test_a_change_that_changes_nothing_writes_nothing(admin, clerk):
    before = footprint()
    officer, released = services.officer_update(actor=admin, officer=clerk, full_name=clerk.full_name,
                                                role=clerk.role, is_active=True)
    assert released == 0 and footprint() == before


@pytest.mark.parametrize("change, field", [
    ({"role": "citizen"}, "role"), ({"role": "wizard"}, "role"), ({"role": "mall_admin"}, "role"),
    ({"full_name": "   "}, "full_name"),
])
def test_bad_input_is_refused_and_nothing_is_stored(admin, clerk, mall_admin, change, field):
    before = footprint()
    with pytest.raises(InvalidInput) as exc:
        services.officer_update(actor=mall_admin, officer=clerk, **change)
    assert exc.value.code == "invalid_officer" and field in exc.value.details
    assert footprint() == before


def test_an_agency_admin_cannot_touch_another_agencys_officers_or_a_citizen(admin, other_admin, citizen, mall_admin):
    before = footprint()
    with pytest.raises(Forbidden):
        services.officer_update(actor=admin, officer=other_admin, is_active=False)
    with pytest.raises(Forbidden):
        services.officer_update(actor=admin, officer=mall_admin, is_active=False)
    with pytest.raises(NotFound):
        services.officer_update(actor=mall_admin, officer=citizen, full_name="Bukan Petugas")
    assert footprint() == before


# ---------------------------------------------------------------------------- selectors

def test_the_list_is_scoped_to_who_manages_whom(admin, other_admin, clerk, mall_admin, citizen, agency, other_agency):
    assert set(selectors.officer_list(actor=admin)) == {admin, clerk}
    assert set(selectors.officer_list(actor=other_admin)) == {other_admin}
    assert set(selectors.officer_list(actor=mall_admin)) == {admin, other_admin, clerk, mall_admin}  # no citizens
    assert set(selectors.officer_list(actor=mall_admin, agency=other_agency)) == {other_admin}
    with pytest.raises(Forbidden):
        selectors.officer_list(actor=admin, agency=other_agency)
    assert list(selectors.officer_list(actor=mall_admin, role="front_office")) == [clerk]
    assert list(selectors.officer_list(actor=admin, q="LOKET")) == [clerk]  # by email, any case
    services.officer_update(actor=admin, officer=clerk, is_active=False)
    assert list(selectors.officer_list(actor=admin, active=False)) == [clerk]
    with pytest.raises(NotFound):
        selectors.officer_get(actor=admin, uuid=other_admin.uuid)
    with pytest.raises(NotFound):
        selectors.officer_get(actor=mall_admin, uuid=citizen.uuid)
    with pytest.raises(NotFound):
        selectors.officer_get(actor=admin, uuid="not-a-uuid")
    with pytest.raises(InvalidInput):
        selectors.officer_list(actor=admin, role="citizen")


# ---------------------------------------------------------------------------- API

def test_api_create_list_get_and_deactivate(api, admin, agency, submitted, officers):
    token = api.token(admin)
    r = api.post("/officers", {"email": "baru@example.test", "full_name": "Rina Putri", "role": "verifier",
                               "password": PASSWORD}, token=token)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["agency"]["slug"] == agency.slug and body["role_label"] == "Verifikator / back office"
    assert body["is_active"] is True
    listed = api.get("/officers", {"role": "verifier"}, token=token).json()
    assert [o["email"] for o in listed["results"]] == ["verifier.dpmptsp@example.test", "baru@example.test"]  # by name
    assert api.get(f"/officers/{body['uuid']}", token=token).json()["full_name"] == "Rina Putri"
    fo = officers["dpmptsp:front_office"]
    cases.task_claim(actor=fo, task=StageTask.objects.get(application=submitted, status=TaskStatus.ACTIVE))
    r = api.patch(f"/officers/{fo.uuid}", {"is_active": False}, token=token)
    assert r.status_code == 200, r.content
    assert r.json()["is_active"] is False and r.json()["released"] == 1


def test_api_deactivation_closes_the_officers_counter(api, admin, clerk, agency, queue_group):
    (counter,) = open_counters(agency, queue_group, clerk)
    r = api.patch(f"/officers/{clerk.uuid}", {"is_active": False}, token=api.token(admin))
    assert r.status_code == 200, r.content
    assert not CounterSession.objects.filter(counter=counter, closed_at__isnull=True).exists()


def test_api_refusals(api, admin, other_admin, clerk, citizen):
    token = api.token(admin)
    before = footprint()
    r = api.get(f"/officers/{other_admin.uuid}", token=token)
    assert r.status_code == 404 and r.json()["code"] == "officer_not_found"
    r = api.patch(f"/officers/{other_admin.uuid}", {"is_active": False}, token=token)
    assert r.status_code == 404
    r = api.patch(f"/officers/{clerk.uuid}", {"role": "wizard"}, token=token)
    assert r.status_code == 400 and r.json()["details"]["role"]
    r = api.patch(f"/officers/{admin.uuid}", {"is_active": False}, token=token)
    assert r.status_code == 403 and r.json()["code"] == "role_reserved"  # not even their own
    r = api.post("/officers", {"email": "bukan-email", "full_name": "", "role": "verifier", "password": "1"}, token=token)
    assert r.status_code == 400 and {"email", "full_name", "password"} <= set(r.json()["details"])
    r = api.post("/officers", {"email": clerk.email.upper(), "full_name": "Kembar", "role": "verifier",
                               "password": PASSWORD}, token=token)
    assert r.status_code == 409 and r.json()["code"] == "duplicate_account"
    r = api.post("/officers", {"email": "lain@example.test", "full_name": "Lain", "role": "verifier",
                               "password": PASSWORD, "agency": "disdukcapil"}, token=token)
    assert r.status_code == 403 and r.json()["code"] == "foreign_agency"
    assert api.get("/officers", token=api.token(clerk)).status_code == 403
    assert api.get("/officers", token=api.token(citizen)).status_code == 403
    assert api.get("/officers").status_code == 401
    after = footprint()
    assert after[0] == before[0] and after[1] == before[1] + 2  # only the two tokens issued above


def test_api_list_queries_do_not_grow_with_officers(api, mall_admin, agency, other_agency, make_officer,
                                                   django_assert_max_num_queries):
    for i in range(40):
        make_officer(agency if i % 2 else other_agency, role="verifier", email=f"v{i}@example.test")
    token = api.token(mall_admin)
    with django_assert_max_num_queries(3):  # token + count + page (agencies joined)
        r = api.get("/officers", {"page_size": 50}, token=token)
    assert r.status_code == 200 and r.json()["count"] == 41


# ---------------------------------------------------------------------------- pages

def test_pages_list_create_and_edit(client, admin, clerk, agency):
    client.force_login(admin)
    page = client.get("/kantor/petugas/")
    assert page.status_code == 200 and clerk.full_name in page.content.decode()
    r = client.post("/kantor/petugas/baru/", {"full_name": "Rina Putri", "email": "rina@example.test",
                                              "role": "verifier", "password": PASSWORD})
    assert r.status_code == 302
    rina = User.objects.get(email="rina@example.test")
    assert (rina.agency_id, rina.role) == (agency.pk, "verifier")
    r = client.post(f"/kantor/petugas/{rina.uuid}/", {"full_name": "Rina Putri", "role": "verifier", "is_active": "0"})
    assert r.status_code == 302
    assert not User.objects.get(pk=rina.pk).is_active
    listed = client.get("/kantor/petugas/?status=nonaktif").content.decode()
    assert "Rina Putri" in listed and clerk.full_name not in listed


def test_page_deactivation_closes_the_officers_counter(client, admin, clerk, agency, queue_group):
    (counter,) = open_counters(agency, queue_group, clerk)
    client.force_login(admin)
    r = client.post(f"/kantor/petugas/{clerk.uuid}/", {"full_name": clerk.full_name, "role": clerk.role, "is_active": "0"})
    assert r.status_code == 302
    assert not CounterSession.objects.filter(counter=counter, closed_at__isnull=True).exists()


def test_page_refusals_keep_what_was_typed_and_store_nothing(client, admin, clerk):
    client.force_login(admin)
    before = footprint()
    r = client.post("/kantor/petugas/baru/", {"full_name": "Rina Putri", "email": clerk.email, "role": "verifier",
                                              "password": PASSWORD})
    assert r.status_code == 409 and 'value="Rina Putri"' in r.content.decode()
    r = client.post(f"/kantor/petugas/{admin.uuid}/", {"full_name": admin.full_name, "role": "head", "is_active": "0"})
    assert r.status_code == 403  # an agency admin's own account is the mall administrator's to change
    assert footprint()[0] == before[0]
    client.force_login(clerk)
    assert client.get("/kantor/petugas/").status_code == 403
    assert client.get(f"/kantor/petugas/{admin.uuid}/").status_code == 403


def test_an_agency_admin_sees_their_head_read_only(client, admin, officers):
    head = officers["dpmptsp:head"]
    client.force_login(admin)
    body = client.get(f"/kantor/petugas/{head.uuid}/").content.decode()
    assert head.full_name in body and "<form method=\"post\" novalidate>" not in body
    assert "diangkat dan diubah oleh pengelola MPP" in body
    r = client.post(f"/kantor/petugas/{head.uuid}/", {"full_name": "X", "role": "verifier", "is_active": "0"})
    assert r.status_code == 403 and User.objects.get(pk=head.pk).is_active
    create = client.get("/kantor/petugas/baru/").content.decode()
    assert 'value="front_office"' in create and 'value="head"' not in create and 'value="agency_admin"' not in create


def test_list_page_queries_do_not_grow_with_officers(client, mall_admin, agency, other_agency, make_officer,
                                                     django_assert_max_num_queries):
    for i in range(40):
        make_officer(agency if i % 2 else other_agency, role="verifier", email=f"v{i}@example.test")
    client.force_login(mall_admin)
    # session, user, count, page (agencies joined), the agency filter's list, the site, unread notifications
    with django_assert_max_num_queries(7):
        r = client.get("/kantor/petugas/")
    assert r.status_code == 200 and r.content.decode().count("/kantor/petugas/") >= 25
