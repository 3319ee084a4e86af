"""Shared test fixtures. Test data is created through the product's own service functions."""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API beside live_server

PASSWORD = "Sandi-Rahasia-2026"
NIK_PEKANBARU_F = "1471025208950003"  # Pekanbaru Kota, perempuan, 12-08-1995
NIK_KAMPAR_M = "1401021203880002"  # Kampar (14.01.02), laki-laki, 12-03-1988


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _audit_seal_after_every_commit(settings):
    # no per-process throttle (and so no timer thread outliving a test) unless a test asks
    settings.SATUPINTU_AUDIT_SEAL_INTERVAL = 0


@pytest.fixture
def site(db):
    from satupintu.catalog.tests.factories import make_document_types, make_site

    make_document_types()
    return make_site()


@pytest.fixture
def agency(site):
    from satupintu.catalog.tests.factories import make_agency

    return make_agency(site, slug="dpmptsp", short_name="DPMPTSP")


@pytest.fixture
def other_agency(site):
    from satupintu.catalog.tests.factories import make_agency

    return make_agency(site, slug="disdukcapil", short_name="Disdukcapil")


@pytest.fixture
def make_officer(db):
    from satupintu.core.permissions import SystemActor
    from satupintu.identity.services import officer_create

    def make(agency, role="agency_admin", email=None):
        return officer_create(
            actor=SystemActor("tests"), email=email or f"{role}.{agency.slug if agency else 'mpp'}@example.test",
            full_name=f"Petugas {role}", role=role, password=PASSWORD, agency=agency,
        )

    return make


@pytest.fixture
def mall_admin(make_officer):
    return make_officer(None, role="mall_admin")


@pytest.fixture
def citizen(db):
    from satupintu.identity.services import citizen_register

    return citizen_register(actor=None, full_name="Siti Rahmawati", password=PASSWORD, nik=NIK_PEKANBARU_F,
                            email="siti@example.test", phone="081234567890")


@pytest.fixture
def api(client):
    """A JSON client: api.get/post/patch(path, data, token=None)."""
    import json

    class Api:
        def _call(self, method, path, data=None, token=None):
            headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
            kwargs = {"content_type": "application/json"} if method != "get" else {}
            body = json.dumps(data) if data is not None and method != "get" else data
            return getattr(client, method)(f"/api/v1{path}", body, **kwargs, **headers)

        def get(self, path, data=None, token=None):
            return self._call("get", path, data, token)

        def post(self, path, data=None, token=None):
            return self._call("post", path, data if data is not None else {}, token)

        def patch(self, path, data=None, token=None):
            return self._call("patch", path, data if data is not None else {}, token)

        def token(self, user):
            from satupintu.identity.services import api_token_issue

            return api_token_issue(actor=user)[1]

    return Api()



@pytest.fixture(autouse=True)
def _fresh_process_copies():
    # the process's copies checked against `core.Revision` tokens (catalogue, API tokens, officers,
    # webhooks) outlive a test's rolled-back database
    from satupintu.core import revisions

    revisions.clear_all()


@pytest.fixture(autouse=True)
def _vault_dir(settings, tmp_path):
    settings.SATUPINTU_VAULT_DIR = tmp_path / "vault"


@pytest.fixture
def pbg(agency):
    from satupintu.cases.tests.factories import make_pbg

    return make_pbg(agency)


@pytest.fixture
def officers(agency, pbg, make_officer):
    """Application fixtures (a PBG service of three agencies, its officers, a citizen's KTP and a
    filed application) are shared by the cases and vault tests.

    One officer per (agency, role) the PBG workflow needs, keyed like "dpmptsp:front_office"."""
    from satupintu.catalog.models import Agency

    out = {}
    for slug, roles in {"dpmptsp": ("front_office", "verifier", "technical_reviewer", "head"),
                        "pupr": ("technical_reviewer",), "bapenda": ("technical_reviewer",)}.items():
        a = Agency.objects.get(site=agency.site, slug=slug)
        for role in roles:
            out[f"{slug}:{role}"] = make_officer(a, role=role, email=f"{role}.{slug}@example.test")
    return out


@pytest.fixture
def ktp(citizen):
    from satupintu.cases.tests.factories import PDF
    from satupintu.catalog.models import DocumentType
    from satupintu.vault.services import document_upload

    return document_upload(actor=citizen, owner=citizen, document_type=DocumentType.objects.get(code="ktp-el"),
                           name="ktp.pdf", data=PDF)


@pytest.fixture
def submitted(citizen, pbg, ktp, officers):
    from satupintu.cases import services
    from satupintu.catalog.selectors import filing_catalogue

    app = services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={pbg.current_version.requirements.get().id: ktp}).application
    return app
