"""Copies of rarely written rows checked against `core.Revision` tokens (`core.revisions`): the
triggers change a token with every write that a copy depends on, whoever makes it (services,
querysets, plain SQL), and a copy is never an answer the database would not give."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection, transaction
from django.utils import timezone

from satupintu.core import revisions
from satupintu.core.models import Revision
from satupintu.identity import selectors as identity_selectors
from satupintu.identity.models import ApiToken, CitizenProfile, Role, User
from satupintu.identity.services import api_token_issue
from satupintu.notify import services as notify_services
from satupintu.notify.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db



def installed_triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


def test_the_watched_tables_and_their_triggers():
    watched = {(m._meta.db_table, name, ignored) for m, name, ignored in revisions._watched}
    assert watched == {
        ("identity_user", "identity", frozenset({"last_login"})),
        ("identity_citizenprofile", "identity", frozenset()),
        ("identity_apitoken", "identity", frozenset()),
        # only what `notify.services._endpoints_taking` reads (and the row's id) is watched
        ("notify_webhookendpoint", "webhooks", frozenset(
            {f.column for f in WebhookEndpoint._meta.concrete_fields} - {"id", "agency_id", "is_active", "events"})),
    }
    suffixes = (["_revision_ins", "_revision_upd", "_revision_del", "_revision_truncate"] if connection.vendor == "postgresql"
                else ["_revision_i", "_revision_d", "_revision_u"])
    assert {f"{table}{s}" for table, _n, _i in watched for s in suffixes} <= installed_triggers()


def test_installing_again_restores_dropped_triggers_and_rows(citizen):
    """What every migrate does after its migrations: a table rebuilt by a migration (SQLite drops
    its triggers then) gets them back, and a missing revision row comes back."""
    with connection.cursor() as cursor:
        for trigger in [t for t in installed_triggers() if t.startswith("identity_user_revision")]:
            cursor.execute(f"DROP TRIGGER {trigger}" + (" ON identity_user" if connection.vendor == "postgresql" else ""))
    Revision.objects.filter(name=revisions.WEBHOOKS).delete()
    assert not changes(revisions.IDENTITY, lambda: User.objects.filter(pk=citizen.pk).update(full_name="Siti R."))
    revisions.install_triggers(connection)
    revisions.install_triggers(connection)  # twice: harmless
    assert changes(revisions.IDENTITY, lambda: User.objects.filter(pk=citizen.pk).update(full_name="Siti Ra."))
    assert token(revisions.WEBHOOKS) is not None


def token(name=revisions.IDENTITY):
    return revisions.current(name)


def changes(name, write) -> bool:
    before = token(name)
    write()
    return token(name) != before


def test_writes_to_users_profiles_and_tokens_change_the_identity_revision(citizen, agency, other_agency, make_officer):
    officer = make_officer(agency, role="front_office")
    users = User.objects.filter(pk=officer.pk)
    assert changes(revisions.IDENTITY, lambda: make_officer(agency, role="verifier"))  # a new officer
    for field, value in (("is_active", False), ("role", Role.VERIFIER), ("agency", other_agency), ("email", "baru@example.test"),
                         ("full_name", "Nama Baru"), ("password", "x")):
        assert changes(revisions.IDENTITY, lambda: users.update(**{field: value})), field
    assert not changes(revisions.IDENTITY, lambda: users.update(last_login=timezone.now()))  # every login writes it
    profile = CitizenProfile.objects.filter(user=citizen)
    assert changes(revisions.IDENTITY, lambda: profile.update(kk_number="1471010101010001"))
    assert changes(revisions.IDENTITY, lambda: api_token_issue(actor=citizen))
    tokens = ApiToken.objects.filter(user=citizen)
    assert changes(revisions.IDENTITY, lambda: tokens.update(expires_at=timezone.now()))
    assert changes(revisions.IDENTITY, lambda: tokens.delete())
    with connection.cursor() as cursor:  # not only through Django
        assert changes(revisions.IDENTITY, lambda: cursor.execute(
            "UPDATE identity_user SET full_name = %s WHERE id = %s", ["Lewat SQL", officer.pk]))
    assert changes(revisions.IDENTITY, lambda: users.delete())
    if connection.vendor == "postgresql":  # compares values (SQLite's triggers fire on any UPDATE OF the column)
        assert not changes(revisions.IDENTITY, lambda: User.objects.filter(pk=citizen.pk).update(full_name=citizen.full_name))
        assert not changes(revisions.IDENTITY, lambda: User.objects.filter(pk=-1).delete())  # no rows


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="TRUNCATE: PostgreSQL")
def test_truncate_changes_the_revision(citizen):
    api_token_issue(actor=citizen)
    with connection.cursor() as cursor:  # "revoke every token at once"
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's transaction holds deferred key checks
        assert changes(revisions.IDENTITY, lambda: cursor.execute("TRUNCATE identity_apitoken"))


def test_endpoint_changes_that_copies_depend_on_change_the_webhooks_revision(agency):
    made = {}
    assert changes(revisions.WEBHOOKS, lambda: made.update(e=WebhookEndpoint.objects.create(
        agency=agency, url="https://sistem.example.test/hook", secret="s")))
    endpoint = WebhookEndpoint.objects.filter(pk=made["e"].pk)
    assert changes(revisions.WEBHOOKS, lambda: endpoint.update(is_active=False))
    assert changes(revisions.WEBHOOKS, lambda: endpoint.update(events=["application.approved"]))
    # written on every failed attempt, and read by the delivery task itself: no new token
    assert not changes(revisions.WEBHOOKS, lambda: endpoint.update(failing_since=timezone.now()))
    assert not changes(revisions.WEBHOOKS, lambda: endpoint.update(url="https://lain.example.test/hook"))
    assert changes(revisions.WEBHOOKS, lambda: endpoint.delete())


def test_a_missing_row_means_no_copies_and_the_next_write_brings_it_back(citizen, django_assert_num_queries):
    key = api_token_issue(actor=citizen)[1]
    Revision.objects.all().delete()
    assert token() is None
    identity_selectors.user_for_token(key)
    with django_assert_num_queries(1):  # read afresh: nothing was kept without a token
        assert identity_selectors.user_for_token(key).pk == citizen.pk
    User.objects.filter(pk=citizen.pk).update(full_name="Siti R.")
    assert token() is not None


class TestTokenUsers:
    def test_a_known_token_costs_one_small_query(self, citizen, django_assert_num_queries):
        key = api_token_issue(actor=citizen)[1]
        with django_assert_num_queries(1):  # not kept yet: the token with its user and the revision together
            first = identity_selectors.user_for_token(key)
        with django_assert_num_queries(1) as ctx:  # kept: the revision only
            again = identity_selectors.user_for_token(key)
        assert "core_revision" in ctx.captured_queries[0]["sql"] and "identity_" not in ctx.captured_queries[0]["sql"]
        assert (again.pk, again.full_name, again.citizen.nik) == (first.pk, citizen.full_name, citizen.citizen.nik)

    def test_deactivation_revocation_and_expiry_are_seen_at_once(self, citizen):
        key = api_token_issue(actor=citizen)[1]
        assert identity_selectors.user_for_token(key) is not None
        User.objects.filter(pk=citizen.pk).update(is_active=False)  # not through a service
        assert identity_selectors.user_for_token(key) is None
        User.objects.filter(pk=citizen.pk).update(is_active=True)
        assert identity_selectors.user_for_token(key) is not None
        ApiToken.objects.filter(user=citizen).delete()
        assert identity_selectors.user_for_token(key) is None

        key = api_token_issue(actor=citizen)[1]
        assert identity_selectors.user_for_token(key) is not None
        later = timezone.now() + timedelta(days=400)  # past the token's lifetime, with nothing written
        with mock.patch("satupintu.identity.selectors.timezone.now", return_value=later):
            assert identity_selectors.user_for_token(key) is None

    def test_a_token_from_a_rolled_back_transaction_is_not_kept(self, citizen):
        with pytest.raises(RuntimeError), transaction.atomic():
            key = api_token_issue(actor=citizen)[1]
            assert identity_selectors.user_for_token(key) is not None  # read inside the transaction
            raise RuntimeError("rolled back")
        assert identity_selectors.user_for_token(key) is None

    def test_a_changed_user_is_read_again(self, citizen):
        key = api_token_issue(actor=citizen)[1]
        identity_selectors.user_for_token(key)
        User.objects.filter(pk=citizen.pk).update(full_name="Siti Rahma")
        CitizenProfile.objects.filter(user=citizen).update(kk_number="1471010101010002")
        user = identity_selectors.user_for_token(key)
        assert (user.full_name, user.citizen.kk_number) == ("Siti Rahma", "1471010101010002")

    def test_each_caller_gets_its_own_user(self, citizen):
        key = api_token_issue(actor=citizen)[1]
        one = identity_selectors.user_for_token(key)
        one.full_name, one.citizen.kk_number, one.annotated = "diubah pemanggil", "0", True
        two = identity_selectors.user_for_token(key)
        assert two is not one and two.citizen is not one.citizen
        assert (two.full_name, two.citizen.kk_number, hasattr(two, "annotated")) == ("Siti Rahmawati", "", False)
        assert two.citizen.user is two


class TestOfficersToNotify:
    def test_kept_while_unchanged_and_read_again_after_any_change(self, agency, other_agency, make_officer,
                                                                   django_assert_num_queries):
        fo = make_officer(agency, role="front_office")
        make_officer(agency, role="verifier")
        make_officer(other_agency, role="front_office")
        pairs = {(agency.pk, Role.FRONT_OFFICE)}
        assert [u.pk for u in identity_selectors.officers_to_notify(pairs)] == [fo.pk]
        with django_assert_num_queries(1):
            assert [u.pk for u in identity_selectors.officers_to_notify(pairs)] == [fo.pk]
        second = make_officer(agency, role="front_office", email="fo2@example.test")  # a new officer
        assert [u.pk for u in identity_selectors.officers_to_notify(pairs)] == [fo.pk, second.pk]
        User.objects.filter(pk=fo.pk).update(is_active=False)
        assert [u.pk for u in identity_selectors.officers_to_notify(pairs)] == [second.pk]
        User.objects.filter(pk=second.pk).update(role=Role.VERIFIER)
        assert identity_selectors.officers_to_notify(pairs) == []


    def test_a_copy_missed_inside_a_transaction_costs_one_token_read(self, agency, make_officer,
                                                                       django_assert_num_queries):
        fo = make_officer(agency, role="front_office")
        with transaction.atomic(), django_assert_num_queries(2):  # the token, then the officers
            assert [u.pk for u in identity_selectors.officers_to_notify({(agency.pk, Role.FRONT_OFFICE)})] == [fo.pk]


class TestWebhookTakers:
    def test_endpoints_switched_off_added_or_resubscribed_are_seen_at_once(self, agency, django_assert_num_queries):
        def emit(event="application.approved"):
            return notify_services.webhook_emit(agency_ids=[agency.pk], event=event, payload={"a": 1})

        assert emit() == 0
        one = WebhookEndpoint.objects.create(agency=agency, url="https://a.example.test/h", secret="s")
        assert emit() == 1
        with django_assert_num_queries(2):  # the revision, and the deliveries' insert
            assert emit() == 1
        WebhookEndpoint.objects.filter(pk=one.pk).update(events=["application.rejected"])
        assert emit() == 0 and emit("application.rejected") == 1
        WebhookEndpoint.objects.filter(pk=one.pk).update(is_active=False)
        assert emit("application.rejected") == 0
        assert WebhookDelivery.objects.count() == 3


def test_copies_are_bounded():
    copies = revisions.ProcessCopies(revisions.IDENTITY, limit=3)
    for i in range(5):
        assert copies.read(i, lambda i=i: i * 10) == i * 10
    assert len(copies._items) <= 3


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_without_the_revision_table_the_triggers_are_only_dropped(vendor):
    """After migrations that removed `core_revision` (reversed), a trigger writing to it would
    break every write to users: the watched tables' triggers are dropped, none created; tables
    that are gone are left alone."""
    gone = revisions.trigger_statements(vendor, {"identity_user": ["id", "full_name", "last_login"]})
    assert gone and all(s.startswith("DROP TRIGGER") for s in gone)
    assert all("identity_user" in s for s in gone)
    kept = revisions.trigger_statements(vendor, {"identity_user": ["id", "full_name", "last_login"], "core_revision": []})
    creates = [s for s in kept if s.startswith("CREATE TRIGGER")]
    assert creates and all("identity_user" in s for s in creates)
    if vendor == "sqlite":  # the table's columns as they are now, but the ignored one
        assert any("UPDATE OF id, full_name ON identity_user" in s for s in creates)


@pytest.fixture
def in_request():
    """As Django's handler does around a request."""
    revisions.request_started()
    yield
    revisions.request_finished()


class TestOneReadPerRequest:
    def test_a_request_reads_every_token_in_one_statement_once(self, in_request, citizen, django_assert_num_queries):
        with django_assert_num_queries(1) as ctx:
            tokens = [revisions.current(n) for n in (revisions.IDENTITY, revisions.CATALOGUE, revisions.WEBHOOKS,
                                                     revisions.IDENTITY)]
        assert ctx.captured_queries[0]["sql"] == revisions.ALL_TOKENS_SQL
        assert tokens[0] == tokens[3] == token() and None not in tokens

    def test_outside_a_request_every_read_is_a_query(self, citizen, django_assert_num_queries):
        with django_assert_num_queries(2):
            revisions.current(revisions.IDENTITY)
            revisions.current(revisions.IDENTITY)

    def test_a_write_to_a_watched_table_drops_them_and_other_writes_do_not(self, in_request, citizen, agency,
                                                                            django_assert_num_queries):
        before = revisions.current(revisions.IDENTITY)
        User.objects.filter(pk=citizen.pk).update(full_name="Siti R.")  # the trigger gives a new token
        with django_assert_num_queries(1):
            assert revisions.current(revisions.IDENTITY) == token() != before
        type(agency).objects.filter(pk=agency.pk).update(short_name="DPMPTSP Kota")  # not a watched table
        with django_assert_num_queries(0):
            revisions.current(revisions.IDENTITY)
        revisions.bump(revisions.CATALOGUE)  # the revisions themselves
        with django_assert_num_queries(1):
            revisions.current(revisions.CATALOGUE)

    def test_a_later_transaction_uses_them_until_it_writes_then_reads_its_own(self, in_request, citizen,
                                                                                django_assert_num_queries):
        kept = revisions.current(revisions.IDENTITY)
        with transaction.atomic():
            with django_assert_num_queries(0):
                assert revisions.current(revisions.IDENTITY) == kept
            User.objects.filter(pk=citizen.pk).update(full_name="Siti R.")
            with django_assert_num_queries(2):  # its own change, uncommitted: read each time, never kept
                mine = revisions.current(revisions.IDENTITY)
                assert revisions.current(revisions.IDENTITY) == mine != kept

    def test_tokens_read_inside_a_transaction_are_not_kept(self, in_request, citizen, django_assert_num_queries):
        with transaction.atomic(), django_assert_num_queries(2):
            revisions.current(revisions.IDENTITY)
            revisions.current(revisions.IDENTITY)
        with django_assert_num_queries(1):  # outside it: read once, then kept
            revisions.current(revisions.IDENTITY)
            revisions.current(revisions.IDENTITY)

    def test_they_are_kept_a_second_at_most_and_never_past_the_request(self, citizen, django_assert_num_queries):
        clock = {"t": 1000.0}
        with mock.patch.object(revisions.time, "monotonic", lambda: clock["t"]):
            revisions.request_started()
            revisions.current(revisions.IDENTITY)
            clock["t"] += revisions.SNAPSHOT_SECONDS
            with django_assert_num_queries(0):
                revisions.current(revisions.IDENTITY)
            clock["t"] += 0.01
            with django_assert_num_queries(1):
                revisions.current(revisions.IDENTITY)
            revisions.request_finished()
            with django_assert_num_queries(2):
                revisions.current(revisions.IDENTITY)
                revisions.current(revisions.IDENTITY)

    def test_a_change_rolled_back_within_the_request_is_not_served(self, in_request, agency, make_officer):
        fo = make_officer(agency, role="front_office")
        pairs = {(agency.pk, Role.FRONT_OFFICE)}
        assert [u.pk for u in identity_selectors.officers_to_notify(pairs)] == [fo.pk]
        with pytest.raises(RuntimeError), transaction.atomic():
            second = make_officer(agency, role="front_office", email="fo2@example.test")
            assert [u.pk for u in identity_selectors.officers_to_notify(pairs)] == [fo.pk, second.pk]
            raise RuntimeError("rolled back")
        assert [u.pk for u in identity_selectors.officers_to_notify(pairs)] == [fo.pk]

    def test_a_token_revoked_between_two_requests_is_refused_at_once(self, client, citizen):
        key = api_token_issue(actor=citizen)[1]
        auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
        assert client.get("/api/v1/auth/me", **auth).status_code == 200
        ApiToken.objects.filter(user=citizen).delete()  # as another process would
        assert client.get("/api/v1/auth/me", **auth).status_code == 401

    def test_plain_sql_in_any_case_drops_them(self, in_request, citizen, django_assert_num_queries):
        kept = revisions.current(revisions.IDENTITY)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("UPDATE IDENTITY_USER SET full_name = %s WHERE id = %s", ["Siti R.", citizen.pk])
            with django_assert_num_queries(1):
                assert revisions.current(revisions.IDENTITY) != kept

    def test_the_watcher_outlives_a_wrapper_the_connection_was_opened_in(self):
        def other(execute, sql, params, many, context):
            return execute(sql, params, many, context)

        connection.execute_wrappers.remove(revisions._watch_writes)
        with connection.execute_wrapper(other):
            revisions.connection_created(sender=None, connection=connection)  # as when it connects in there
        assert connection.execute_wrappers == [revisions._watch_writes]

    def test_a_copy_read_in_a_transaction_after_an_unseen_write_is_not_kept_under_the_kept_token(
            self, in_request, agency, make_officer):
        """A write past Django's cursors (the raw driver) is not seen; the copy read after it in
        the same transaction must still not outlive its rollback."""
        fo = make_officer(agency, role="front_office")
        pairs = {(agency.pk, Role.FRONT_OFFICE)}
        revisions.current(revisions.IDENTITY)  # kept for the request
        with pytest.raises(RuntimeError), transaction.atomic():
            raw = connection.connection.cursor()
            mark = "%s" if connection.vendor == "postgresql" else "?"
            raw.execute(f"UPDATE identity_user SET is_active = {'false' if mark == '%s' else '0'} WHERE id = {mark}", [fo.pk])
            assert identity_selectors.officers_to_notify(pairs) == []
            raise RuntimeError("rolled back")
        assert [u.pk for u in identity_selectors.officers_to_notify(pairs)] == [fo.pk]
