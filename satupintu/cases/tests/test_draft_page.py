"""The applicant's draft page (/permohonan/<uuid>/): nothing typed is lost when a button is
refused or when another button than "Simpan" is pressed; one draft per service from the service
page; wording for a returned file and for the officer who filed a walk-in draft; how errors look."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from satupintu.cases import services
from satupintu.cases.models import Application, Status
from satupintu.core.models import AuditEntry
from satupintu.vault.models import Document

from .factories import PDF
from .helpers import active

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(citizen, pbg):
    from satupintu.catalog.selectors import service_get

    return services.application_create(actor=citizen, service=service_get(actor=citizen, key="pbg", agency_slug="dpmptsp"))


def url(app):
    return f"/permohonan/{app.uuid}/"


def typed(**more):
    return {"applicant_type": "badan_usaha", "business_name": "CV Maju Jaya", "nib": "12ab", "npwp": "",
            "notes": "Rumah dua lantai", **more}


def test_apply_twice_goes_back_to_the_draft_already_begun(client, citizen, pbg):
    client.force_login(citizen)
    first = client.post("/layanan/dpmptsp/pbg/ajukan/")
    again = client.post("/layanan/dpmptsp/pbg/ajukan/", follow=True)
    app = Application.objects.get()
    assert first["Location"] == again.redirect_chain[-1][0] == url(app)
    assert "Anda sudah punya draf permohonan layanan ini" in again.content.decode()
    # once it is filed, the next tap starts a new one
    Application.objects.update(status=Status.SUBMITTED, tracking_number="X")
    client.post("/layanan/dpmptsp/pbg/ajukan/")
    assert Application.objects.count() == 2


def test_my_applications_says_when_each_one_was_made(client, citizen, draft):
    from django.utils.formats import date_format
    from django.utils.timezone import localtime

    client.force_login(citizen)
    body = client.get("/permohonan/").content.decode()
    assert f"dibuat <time datetime=" in body and date_format(localtime(draft.created_at), "j M Y H:i") in body
