"""Catalogue writes and the one revision row: a profile load (several catalogue services in one
transaction) and a publish through the API at the same time must not deadlock."""

import datetime
import threading
import time

import pytest
from django.db import connection, transaction

from satupintu.catalog import services
from satupintu.catalog.content import version_content
from satupintu.catalog.tests.factories import SYSTEM

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks: PostgreSQL")
def test_profile_load_and_a_publish_do_not_deadlock(pbg, mall_admin):
    site = pbg.agency.site
    draft = services.service_draft_start(actor=mall_admin, service=pbg)
    content = {**version_content(pbg.current_version), "description": "changed by the profile"}
    loader_has_revision, publisher_started = threading.Event(), threading.Event()
    errors = {}

    def loader():  # as profiles.loader.load: site first, services later, one transaction
        try:
            with transaction.atomic():
                services.site_upsert(actor=SYSTEM, slug=site.slug, data={}, closures={datetime.date(2031, 1, 2): "Banjir"})
                loader_has_revision.set()
                publisher_started.wait(5)
                time.sleep(0.5)  # the publisher now holds the service row and waits for the revision row
                services.service_sync_published(actor=SYSTEM, agency=pbg.agency, slug=pbg.slug, kind=pbg.kind,
                                                content=content)
        except Exception as exc:  # noqa: BLE001
            errors["loader"] = repr(exc)
        finally:
            connection.close()

    def publisher():  # an agency admin publishing a draft of the same service
        try:
            loader_has_revision.wait(5)
            publisher_started.set()
            services.service_version_publish(actor=mall_admin, version=draft)
        except Exception as exc:  # noqa: BLE001
            errors["publisher"] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=loader), threading.Thread(target=publisher)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # one of them goes first; the other waits for it (the profile deletes the draft: a late
    # publish then finds none) -- never a deadlock
    assert "loader" not in errors and "deadlock" not in errors.get("publisher", ""), errors
