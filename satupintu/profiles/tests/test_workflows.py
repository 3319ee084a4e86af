"""Workflows in the profile files: every service of MPP Pekanbaru gets one, the multi-agency ones
are as described, and a bad stage stops the load with the file and service named."""

import shutil

import pytest
from django.core.management import CommandError, call_command

from satupintu.catalog.models import Agency, Service
from satupintu.core.models import AuditEntry
from satupintu.profiles import loader, workflows

pytestmark = pytest.mark.django_db

MULTI_AGENCY = {  # (agency, service) → agencies that own a stage besides the service's own
    ("dpmptsp", "pbg"): {"dinas-pupr", "bapenda-kota"},
    ("dpmptsp", "pbg-rumah-ibadat"): {"dinas-pupr", "kemenag"},
    ("dpmptsp", "slf"): {"dinas-pupr"},
    ("dpmptsp", "izin-reklame"): {"dinas-pupr", "bapenda-kota"},
    ("dpmptsp", "sip-dokter"): {"dinkes"},
    ("dpmptsp", "sip-bidan"): {"dinkes"},
    ("dpmptsp", "izin-klinik-pratama"): {"dinkes"},
    ("dpmptsp", "tdup"): {"bapenda-kota"},
    ("disdukcapil", "pengakuan-pengesahan-anak"): {"pengadilan-agama"},
    ("bpn", "peralihan-hak"): {"bapenda-kota", "kpp-pratama"},
}


@pytest.fixture(scope="module")
def profile():
    return loader.read("mpp-pekanbaru")


def stages_of(slug, agency="dpmptsp"):
    return Service.objects.get(agency__slug=agency, slug=slug).current_version.workflow


def test_every_published_service_has_a_workflow_starting_with_completeness():
    call_command("load_profile", "mpp-pekanbaru")
    services = Service.objects.filter(current_version__isnull=False).select_related("current_version", "agency")
    assert services.count() == 173
    for s in services:
        wf = s.current_version.workflow
        assert wf and wf[0]["kind"] == "completeness_check" and wf[0]["after"] == [], s
        assert sum(st["sla_days"] for st in wf) <= s.current_version.completion_days, s
        assert all(set(st) == {"key", "kind", "name", "agencies", "role", "sla_days", "after"} for st in wf)
        assert all("{owner}" not in st["agencies"] for st in wf)
    for (agency, slug), others in MULTI_AGENCY.items():
        owners = {a for st in stages_of(slug, agency) for a in st["agencies"]}
        assert owners == others | {agency}, (agency, slug, owners)


def test_pbg_runs_through_a_field_inspection_and_a_three_agency_technical_team():
    call_command("load_profile", "mpp-pekanbaru")
    pbg = Service.objects.get(agency__slug="dpmptsp", slug="pbg").current_version
    kinds = [s["kind"] for s in pbg.workflow]
    assert kinds == ["completeness_check", "data_entry", "technical_review", "field_inspection", "technical_team",
                     "approval", "handover"]
    team = pbg.workflow[4]
    assert sorted(team["agencies"]) == ["bapenda-kota", "dinas-pupr", "dpmptsp"] and team["role"] == "technical_reviewer"
    assert pbg.workflow[3]["agencies"] == ["dinas-pupr"]
    assert pbg.workflow[5]["role"] == "head" and pbg.deemed_approval
    assert not Service.objects.get(agency__slug="disdukcapil", slug="ktp-el").current_version.deemed_approval


def test_parallel_stages_in_land_transfer(profile):
    bpn = next(a for a in profile.agencies if a.slug == "bpn")
    wf = next(s for s in bpn.services if s["slug"] == "peralihan-hak")["content"]["workflow"]
    by_key = {s["key"]: s for s in wf}
    assert by_key["validasi-bphtb"]["after"] == by_key["validasi-pph"]["after"] == ["kelengkapan"]
    assert by_key["pencatatan"]["after"] == ["validasi-bphtb", "validasi-pph"]


def test_shares_fill_exactly_the_completion_days():
    problems = []
    stages = [{"key": "a", "share": 1}, {"key": "b", "share": 1}, {"key": "c", "share": 4}, {"key": "d", "share": 2},
              {"key": "e", "share": 0}]
    for days in (0, 1, 3, 5, 14, 28):
        out = workflows.expand(stages, completion_days=days, where="x", problems=problems)
        assert sum(s["sla_days"] for s in out) == days
        assert [s["after"] for s in out] == [[], ["a"], ["b"], ["c"], ["d"]]
        assert all(s["agencies"] == ["{owner}"] and "share" not in s for s in out)
    assert [s["sla_days"] for s in workflows.expand(stages, completion_days=3, where="x", problems=problems)] == [0, 0, 2, 1, 0]
    assert not problems
    workflows.expand([{"key": "a", "share": 1}, {"key": "b", "sla_days": 1}], completion_days=3, where="x", problems=problems)
    assert "tidak campur" in problems[0]


PBG_TEAM = 'agencies = ["dinas-pupr", "{owner}", "bapenda-kota"]'


def _replace(old, new, count=1):
    def breakage(folder):
        path = folder / ("workflows.toml" if "dinas-pupr\", \"{owner}" in old or "perizinan\"\n" in old else "agencies/01-dpmptsp.toml")
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, count))
    return breakage


@pytest.mark.parametrize("breakage,message", [
    (_replace(PBG_TEAM, 'agencies = ["dinas-pupr", "{owner}", "dinas-pariwisata"]'), "instansi 'dinas-pariwisata' tidak dikenal"),
    (_replace(PBG_TEAM, 'agencies = ["dinas-pupr"]'), "tim teknis memerlukan paling sedikit dua instansi"),
    (_replace('key = "tinjau-lapangan"\nkind = "field_inspection"\nname = "Tinjau lokasi titik',
              'key = "tinjau-lapangan"\nkind = "field_inspection"\nafter = ["tim-teknis"]\nname = "Tinjau lokasi titik'), "siklus"),
    (_replace('key = "verifikasi-pajak"\nkind = "technical_review"',
              'key = "verifikasi-pajak"\nkind = "technical_review"\nafter = ["hantu"]'), "tahap 'hantu' yang tidak ada"),
    (_replace('role = "head"\nsla_days = 1\n', 'role = "bupati"\nsla_days = 1\n'), "peran 'bupati' tidak dikenal"),
    (_replace('kind = "data_entry"\nname = "Entri data dan verifikasi dokumen usaha pariwisata"',
              'kind = "ritual"\nname = "Entri data dan verifikasi dokumen usaha pariwisata"'), "jenis tahap 'ritual'"),
    (_replace('workflow = "pbg"', 'workflow = "tidak-ada"'), "alur 'tidak-ada' tidak ada"),
    (_replace("completion_days = 28\ndeemed_approval = true\nworkflow = \"pbg\"",
              "completion_days = 10\ndeemed_approval = true\nworkflow = \"pbg\""), "melebihi jangka waktu penyelesaian 10"),
])
def test_a_bad_workflow_changes_nothing_and_names_the_file(tmp_path, monkeypatch, breakage, message):
    folder = tmp_path / "mpp-pekanbaru"
    shutil.copytree(loader.PROFILES_DIR / "mpp-pekanbaru", folder)
    monkeypatch.setattr(loader, "PROFILES_DIR", tmp_path)
    breakage(folder)
    with pytest.raises(CommandError, match=message) as exc:
        call_command("load_profile", "mpp-pekanbaru")
    assert "01-dpmptsp.toml layanan '" in str(exc.value)
    assert Agency.objects.count() == 0 and AuditEntry.objects.count() == 0


def test_malformed_workflow_files_are_problems_not_tracebacks():
    from pathlib import Path

    problems: list[str] = []
    assert workflows.read_templates(Path("workflows.toml"), {"workflow": "x", "defaults": ["y"]}, problems) == ({}, {})
    assert problems == ["workflows.toml: 'workflow' harus berupa tabel", "workflows.toml: 'defaults' harus berupa tabel"]
    problems.clear()
    _templates, defaults = workflows.read_templates(Path("workflows.toml"), {"defaults": {"perizinan": ["pbg"]}}, problems)
    assert defaults == {} and "[defaults] perizinan" in problems[0]
    problems.clear()
    out = workflows.expand([{"key": "a", "share": 1}, {"key": "b", "share": 1, "after": [["a"]]}], completion_days=3,
                           where="x", problems=problems)
    assert [s["key"] for s in out] == ["a", "b"]  # the odd `after` is left for catalog.workflow to report
