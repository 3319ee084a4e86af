from django.shortcuts import render
from django.utils.translation import gettext as _

from satupintu.cases.selectors import draft_of_service
from satupintu.core.clock import site_today
from satupintu.core.errors import DomainError, InvalidInput
from satupintu.core.http import int_param
from satupintu.core.pagination import Page

from . import eligibility, selectors
from satupintu.identity.models import Role

from .models import ApplicantType, ServiceKind, VersionStatus

WELL_KNOWN = ["ktp", "akta kelahiran", "kartu keluarga", "izin usaha", "pbg", "skck", "paspor", "bpjs"]


def home(request):
    agencies = selectors.agency_list(actor=request.user)
    return render(request, "catalog/home.html", {
        "agencies": agencies, "kinds": ServiceKind.choices, "suggestions": WELL_KNOWN,
    })


def service_list(request):
    q = request.GET.get("q", "")
    agency_slug = request.GET.get("instansi") or None
    kind = request.GET.get("jenis") or None
    page_no = int_param(request.GET, "halaman")
    error, page, agency = None, Page([], 0, 1, 20), None
    try:
        agency = selectors.agency_get(actor=request.user, key=agency_slug) if agency_slug else None
        page = selectors.service_search(actor=request.user, query=q, agency=agency, kind=kind, page=page_no)
    except DomainError as exc:
        error = exc
    context = {
        "q": q[:200], "agency": agency, "kind": kind, "page": page, "error": error,
        "agencies": selectors.agency_choices(actor=request.user), "kinds": ServiceKind.choices,
    }
    status = error.status if error else 200
    template = "catalog/_results.html" if request.headers.get("HX-Request") else "catalog/service_list.html"
    return render(request, template, context, status=status)


def service_detail(request, agency_slug, slug):
    service = selectors.service_get(actor=request.user, key=slug, agency_slug=agency_slug)
    number = int_param(request.GET, "versi", 0) if request.GET.get("versi") else None
    if number is None and service.current_version_id is None:  # never published: officers see the draft
        draft = selectors.service_draft_get(actor=request.user, service=service)
        number = draft.number if draft else 0
    version = selectors.service_version_get(actor=request.user, service=service, number=number)
    site = selectors.site_current()
    today = site_today(site)
    due, skipped = selectors.expected_completion(site=site, version=version, start=today)
    draft = None  # a citizen who began a draft of this service is led back to it (one query, citizens only)
    if version.status == VersionStatus.PUBLISHED and getattr(request.user, "role", None) == Role.CITIZEN:
        draft = draft_of_service(actor=request.user, service=service)
    return render(request, "catalog/service_detail.html", {
        "service": service, "version": version, "due": due, "skipped": skipped,
        "stages": selectors.workflow_stages(version=version),
        "versions": selectors.service_versions(actor=request.user, service=service),
        "applicant_types": ApplicantType.choices, "today": today,
        "can_edit": selectors.can_edit(actor=request.user, service=service), "draft": draft,
    })


def service_eligibility(request, agency_slug, slug):
    service = selectors.service_get(actor=request.user, key=slug, agency_slug=agency_slug)
    version = selectors.service_version_get(actor=request.user, service=service)
    result, error, status = None, None, 200
    nik = request.POST.get("nik", "") if request.method == "POST" else ""
    applicant_type = request.POST.get("applicant_type", "perorangan")
    if request.method == "POST":
        try:
            result = eligibility.check(version, nik=nik, applicant_type=applicant_type)
        except InvalidInput as exc:
            error, status = exc, 400
    context = {"service": service, "version": version, "result": result, "error": error, "nik": nik[:32],
               "applicant_type": applicant_type, "applicant_types": ApplicantType.choices}
    if request.headers.get("HX-Request"):
        return render(request, "catalog/_eligibility.html", context, status=status)
    context["title"] = _("Cek kelayakan")
    return render(request, "catalog/eligibility_page.html", context, status=status)


def agency_list(request):
    return render(request, "catalog/agency_list.html", {"agencies": selectors.agency_list(actor=request.user)})


def agency_detail(request, slug):
    agency = selectors.agency_get(actor=request.user, key=slug)
    services = selectors.service_list(actor=request.user, agency=agency)
    return render(request, "catalog/agency_detail.html", {
        "agency": agency, "services": services, "counters": agency.counters.filter(is_active=True),
    })
