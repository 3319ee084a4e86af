import pytest

from satupintu.catalog.tests.factories import SYSTEM, make_service
from satupintu.core.models import AuditEntry
from satupintu.queueing import services
from satupintu.queueing.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(agency, other_agency, make_officer):
    ktp = make_service(agency, name="Perekaman KTP-el", slug="ktp")
    a = services.queue_group_create(actor=SYSTEM, agency=agency, prefix="A", name="Kependudukan", services=[ktp])
    b = services.queue_group_create(actor=SYSTEM, agency=other_agency, prefix="B", name="Lain")
    return {"ktp": ktp, "a": a, "b": b, "counter": agency.counters.first().code,
            "officer": make_officer(agency, role="front_office"), "foreign": make_officer(other_agency, role="front_office")}


def test_kiosk_to_counter_journey(api, setup):
    r = api.post("/queue/tickets", {"group": "a", "service": str(setup["ktp"].uuid), "priority": "lansia"})
    assert r.status_code == 201, r.content
    first = r.json()
    assert first["display"] == "A001" and first["ahead"] == 0 and len(first["code"]) == 7
    second = api.post("/queue/tickets", {"group": "A"}).json()
    assert second["ahead"] == 1  # the elderly visitor goes first
    token = api.token(setup["officer"])
    assert api.post(f"/queue/counters/{setup['counter']}/open", {"groups": ["A"]}, token=token).status_code == 201
    called = api.post(f"/queue/counters/{setup['counter']}/call-next", token=token).json()
    assert called["display"] == "A001" and called["counter"] == setup["counter"]
    assert api.get(f"/queue/tickets/{second['code'].lower()}").json()["ahead"] == 0
    assert api.post(f"/queue/tickets/{called['code']}/recall", token=token).status_code == 200
    assert api.post(f"/queue/tickets/{called['code']}/start", token=token).json()["status"] == "serving"
    assert api.post(f"/queue/tickets/{called['code']}/finish", token=token).json()["status"] == "done"
    r = api.post(f"/queue/tickets/{called['code']}/recall", token=token)
    assert r.status_code == 409 and r.json()["code"] == "ticket_wrong_status"
    nxt = api.post(f"/queue/counters/{setup['counter']}/call-next", token=token).json()
    moved = api.post(f"/queue/tickets/{nxt['code']}/transfer", {"group": "B"}, token=token)
    assert moved.status_code == 201 and moved.json()["display"] == "B001"
    r = api.post(f"/queue/counters/{setup['counter']}/call-next", token=token)
    assert r.status_code == 404 and r.json()["code"] == "queue_empty"


@pytest.mark.parametrize("payload,status,code", [
    ({"group": "Z"}, 404, "queue_group_not_found"),
    ({"group": "A", "priority": "vip"}, 400, "invalid_priority"),
    ({"group": "A", "nik": "123"}, 400, "nik_length"),
    ({"group": "A", "phone": "abc"}, 400, "phone_invalid"),
    ({}, 422, "invalid_input"),
])
def test_bad_ticket_requests(api, setup, payload, status, code):
    r = api.post("/queue/tickets", payload)
    assert r.status_code == status and r.json()["code"] == code and r.json()["message"]
    assert Ticket.objects.count() == 0


def test_typo_in_a_code_is_caught_not_answered_with_another_ticket(api, setup):
    code = api.post("/queue/tickets", {"group": "A"}).json()["code"]
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    r = api.get(f"/queue/tickets/{typo}")
    assert r.status_code == 404 and r.json()["code"] == "ticket_not_found"


def test_foreign_officer_and_anonymous_are_refused(api, setup):
    api.post("/queue/tickets", {"group": "A"})
    counter = setup["counter"]
    r = api.post(f"/queue/counters/{counter}/open", {"groups": ["A"]}, token=api.token(setup["foreign"]))
    assert r.status_code == 403 and r.json()["code"] == "foreign_counter"
    assert api.post(f"/queue/counters/{counter}/call-next").status_code == 401
    before = AuditEntry.objects.count()
    assert api.post(f"/queue/counters/{counter}/call-next", token=api.token(setup["foreign"])).status_code == 403
    assert AuditEntry.objects.count() == before + 1  # only the token issue was recorded
    assert api.get(f"/queue/counters/{counter}/tickets", token=api.token(setup["foreign"])).status_code == 404
    assert api.post("/queue/counters/NOPE/call-next", token=api.token(setup["officer"])).status_code == 404


def test_calling_with_no_ticket_waiting_or_closed_counter(api, setup):
    token = api.token(setup["officer"])
    r = api.post(f"/queue/counters/{setup['counter']}/call-next", token=token)
    assert r.status_code == 409 and r.json()["code"] == "counter_closed"
    api.post(f"/queue/counters/{setup['counter']}/open", {"groups": ["A"]}, token=token)
    r = api.post(f"/queue/counters/{setup['counter']}/call-next", token=token)
    assert r.status_code == 404 and r.json()["code"] == "queue_empty"
    r = api.post(f"/queue/counters/{setup['counter']}/open", {"groups": ["B"]}, token=token)
    assert r.status_code == 400 and r.json()["code"] == "invalid_groups"


def test_counter_ticket_list_query_count(api, setup, django_assert_max_num_queries):
    token = api.token(setup["officer"])
    api.post(f"/queue/counters/{setup['counter']}/open", {"groups": ["A"]}, token=token)
    for _ in range(30):
        api.post("/queue/tickets", {"group": "A"})
        code = api.post(f"/queue/counters/{setup['counter']}/call-next", token=token).json()["code"]
        api.post(f"/queue/tickets/{code}/no-show", token=token)
    with django_assert_max_num_queries(5):
        r = api.get(f"/queue/counters/{setup['counter']}/tickets", token=token)
    assert len(r.json()["tickets"]) == 30
