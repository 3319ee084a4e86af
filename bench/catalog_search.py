#!/usr/bin/env python
"""Benchmark: catalogue search and service pages at national size.

Generates a catalogue of N services (default 100,000) spread over agencies in all 514
regencies of the vendored Kemendagri code list, then measures, through Django's full request
stack (middleware, view, serialisation/templates), on SQLite and on PostgreSQL:

- search latency p50/p95 and SQL queries per search (`GET /api/v1/search?q=…` and the `/layanan/?q=…` page);
- service page latency p50/p95 (`/layanan/<agency>/<service>/`) and its query count.

Targets (issue #2): search p95 < 50 ms, service page p95 < 30 ms.

    .venv/bin/python bench/catalog_search.py                      # both engines, 100,000 services
    .venv/bin/python bench/catalog_search.py --services 20000 --engines sqlite

PostgreSQL is reached at $BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/satupintu_bench);
the database is dropped and created again. SQLite runs in a temporary file.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from servers import fresh_database  # noqa: E402  (bench/servers.py)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERIES = [
    "izin usaha", "akta kelahiran", "izin reklame", "persetujuan bangunan gedung", "daftar", "kartu keluarga",
    "surat izin praktik dokter", "pajak bumi bangunan", "sertifikat laik fungsi", "pendaftaran nib",
    "izin apotek", "tanda daftar usaha pariwisata", "ktp", "pindah datang", "izin lingkungan", "skck",
    "paspor", "bpjs", "izin trayek angkutan", "rekomendasi penelitian",
]

TEMPLATES = [
    ("Persetujuan Bangunan Gedung (PBG)", "perizinan", "Persetujuan untuk membangun baru, mengubah, memperluas atau merawat bangunan gedung."),
    ("Sertifikat Laik Fungsi (SLF)", "perizinan", "Sertifikat kelaikan fungsi bangunan gedung sebelum dimanfaatkan."),
    ("Izin Penyelenggaraan Reklame", "perizinan", "Izin memasang reklame papan, baliho, atau videotron."),
    ("Surat Izin Praktik Dokter", "perizinan", "Izin praktik bagi dokter di fasilitas pelayanan kesehatan."),
    ("Surat Izin Praktik Bidan", "perizinan", "Izin praktik bagi bidan mandiri atau di fasilitas kesehatan."),
    ("Tanda Daftar Usaha Pariwisata (TDUP)", "perizinan", "Pendaftaran usaha pariwisata seperti hotel, restoran dan biro perjalanan."),
    ("Pendampingan Pendaftaran NIB melalui OSS RBA", "non_perizinan", "Bantuan perizinan berusaha berbasis risiko bagi pelaku usaha mikro."),
    ("Izin Apotek", "perizinan", "Izin penyelenggaraan apotek oleh apoteker."),
    ("Izin Trayek Angkutan Perkotaan", "perizinan", "Izin menyelenggarakan angkutan orang dalam trayek."),
    ("Rekomendasi Penelitian", "non_perizinan", "Surat rekomendasi bagi peneliti dan mahasiswa."),
    ("Penerbitan Akta Kelahiran", "layanan_instansi", "Pencatatan kelahiran dan penerbitan kutipan akta kelahiran."),
    ("Penerbitan Kartu Keluarga", "layanan_instansi", "Penerbitan KK baru atau perubahan data keluarga."),
    ("Perekaman dan Pencetakan KTP-el", "layanan_instansi", "Perekaman data biometrik dan pencetakan KTP elektronik."),
    ("Surat Keterangan Pindah Datang", "layanan_instansi", "Pencatatan perpindahan penduduk antar daerah."),
    ("Pendaftaran Objek Pajak Bumi dan Bangunan", "layanan_instansi", "Pendaftaran objek PBB-P2 baru dan mutasi."),
    ("Validasi BPHTB", "layanan_instansi", "Validasi bea perolehan hak atas tanah dan bangunan."),
    ("Penerbitan SKCK", "layanan_instansi", "Surat keterangan catatan kepolisian."),
    ("Pendaftaran Peserta BPJS Kesehatan", "layanan_instansi", "Pendaftaran peserta Jaminan Kesehatan Nasional."),
    ("Persetujuan Lingkungan (UKL-UPL)", "perizinan", "Persetujuan lingkungan bagi usaha dengan dampak sedang."),
    ("Izin Usaha Toko Modern", "perizinan", "Izin usaha minimarket, supermarket dan toko swalayan."),
]


def pct(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def generate(n_services: int) -> float:
    from django.db import transaction

    from satupintu.catalog import search
    from satupintu.catalog.models import Agency, DocumentType, Requirement, Service, ServiceVersion, Site
    from satupintu.identity import regions

    started = time.perf_counter()
    site = Site.objects.create(slug="mpp-pekanbaru", name="Katalog nasional (benchmark)", timezone="Asia/Jakarta")
    ktp = DocumentType.objects.create(code="ktp-el", name="KTP-el")
    kk = DocumentType.objects.create(code="kk", name="Kartu Keluarga")
    regencies = regions.regencies()
    agencies = Agency.objects.bulk_create([
        Agency(site=site, slug=f"dpmptsp-{r.code.replace('.', '-')}", name=f"DPMPTSP {r.name}",
               short_name=f"DPMPTSP {r.code}", kind="pemda_kota", position=i)
        for i, r in enumerate(regencies)
    ])
    agencies = list(Agency.objects.order_by("pk"))
    rng = random.Random(42)
    batch = 5000
    for start in range(0, n_services, batch):
        with transaction.atomic():
            services, versions = [], []
            for i in range(start, min(start + batch, n_services)):
                agency = agencies[i % len(agencies)]
                name, kind, desc = TEMPLATES[(i // len(agencies)) % len(TEMPLATES)]
                region = agency.name.removeprefix("DPMPTSP ")
                full = f"{name} {region}" if i >= len(agencies) * len(TEMPLATES) else name
                services.append(Service(
                    agency=agency, slug=f"layanan-{i}", kind=kind, name=full,
                    search_title=search.stem_text(full),
                    search_body=search.stem_text(f"{desc} KTP-el Kartu Keluarga {agency.name} {agency.short_name}"),
                ))
            services = Service.objects.bulk_create(services)
            if services[0].pk is None:  # SQLite before RETURNING support: fetch ids
                services = list(Service.objects.filter(slug__in=[s.slug for s in services]).order_by("pk"))
            for s in services:
                versions.append(ServiceVersion(
                    service=s, number=1, status="published", name=s.name, description="Layanan benchmark.",
                    applicant_types=["perorangan"], procedure=["Ajukan", "Verifikasi", "Terbit"],
                    completion_days=rng.randint(0, 14), fee=0, complaint_channels=["SP4N-LAPOR!"],
                    legal_basis=["UU 25/2009"], facilities=["Ruang tunggu"],
                ))
            versions = ServiceVersion.objects.bulk_create(versions)
            Requirement.objects.bulk_create(
                [Requirement(version=v, document_type=dt, position=j) for v in versions for j, dt in enumerate((ktp, kk))]
            )
            for s, v in zip(services, versions):
                s.current_version = v
            Service.objects.bulk_update(services, ["current_version"])
    from django.db import connection

    with connection.cursor() as cur:  # as autovacuum would leave a live database
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return time.perf_counter() - started


def measure(n_services: int, rounds: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "satupintu.config.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from satupintu.catalog.models import Service

    call_command("migrate", verbosity=0)
    gen_seconds = generate(n_services)
    client = Client()
    rng = random.Random(7)

    def timed(url, params=None):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            r = client.get(url, params)
            elapsed = (time.perf_counter() - t0) * 1000
        assert r.status_code == 200, (url, params, r.status_code, r.content[:300])
        return elapsed, len(ctx.captured_queries), r

    for q in QUERIES[:5]:  # warm-up
        timed("/api/v1/search", {"q": q})
    api_ms, api_queries, page_ms, page_queries, hits, per_query = [], [], [], [], [], {}
    for _ in range(rounds):
        for q in QUERIES:
            ms, nq, r = timed("/api/v1/search", {"q": q})
            api_ms.append(ms)
            api_queries.append(nq)
            hits.append(r.json()["count"])
            per_query.setdefault(q, []).append(ms)
            ms, nq, _r = timed("/layanan/", {"q": q})
            page_ms.append(ms)
            page_queries.append(nq)
    ids = list(Service.objects.values_list("agency__slug", "slug", "uuid"))
    detail_ms, detail_queries, api_detail_ms = [], [], []
    for agency_slug, slug, uuid in rng.sample(ids, min(len(ids), 40 * rounds)):
        ms, nq, _r = timed(f"/layanan/{agency_slug}/{slug}/")
        detail_ms.append(ms)
        detail_queries.append(nq)
        ms, _nq, _r = timed(f"/api/v1/services/{uuid}")
        api_detail_ms.append(ms)
    return {
        "engine": connection.vendor,
        "services": Service.objects.count(),
        "agencies": len({a for a, _s, _u in ids}),
        "generate_s": round(gen_seconds, 1),
        "search_api_ms": {"p50": round(pct(api_ms, 50), 1), "p95": round(pct(api_ms, 95), 1), "n": len(api_ms)},
        "search_api_queries": {"min": min(api_queries), "max": max(api_queries)},
        "search_page_ms": {"p50": round(pct(page_ms, 50), 1), "p95": round(pct(page_ms, 95), 1)},
        "search_page_queries": {"min": min(page_queries), "max": max(page_queries)},
        "median_hits": statistics.median(hits),
        "slowest": sorted(((round(statistics.median(v), 1), q) for q, v in per_query.items()), reverse=True)[:3],
        "service_page_ms": {"p50": round(pct(detail_ms, 50), 1), "p95": round(pct(detail_ms, 95), 1), "n": len(detail_ms)},
        "service_page_queries": {"min": min(detail_queries), "max": max(detail_queries)},
        "service_api_ms": {"p50": round(pct(api_detail_ms, 50), 1), "p95": round(pct(api_detail_ms, 95), 1)},
    }


def run_engine(engine: str, n: int, rounds: int) -> dict:
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "bench", "ALLOWED_HOSTS": "testserver"}
    tmp = None
    if engine == "sqlite":
        tmp = tempfile.TemporaryDirectory()
        env["DATABASE_URL"] = f"sqlite:///{tmp.name}/bench.sqlite3"
    else:
        url = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/satupintu_bench")
        fresh_database(url)
        env["DATABASE_URL"] = url
    out = subprocess.run([sys.executable, __file__, "--worker", "--services", str(n), "--rounds", str(rounds)],
                         env=env, capture_output=True, text=True, cwd=ROOT)
    if tmp:
        tmp.cleanup()
    if out.returncode != 0:
        raise SystemExit(f"{engine} run failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the 20 queries")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.services, args.rounds)))
        return
    print(f"catalog_search: {args.services:,} services over the 514 regencies; targets: search p95 < 50 ms, service page p95 < 30 ms")
    for engine in args.engines.split(","):
        r = run_engine(engine.strip(), args.services, args.rounds)
        print(f"\n[{r['engine']}] {r['services']:,} services, {r['agencies']} agencies (generated in {r['generate_s']} s)")
        print(f"  search API   p50 {r['search_api_ms']['p50']:>6} ms  p95 {r['search_api_ms']['p95']:>6} ms  "
              f"queries/search {r['search_api_queries']['min']}–{r['search_api_queries']['max']}  (n={r['search_api_ms']['n']}, median hits {r['median_hits']:,})")
        print(f"  slowest queries (median ms): {', '.join(f'{q!r} {ms}' for ms, q in r['slowest'])}")
        print(f"  search page  p50 {r['search_page_ms']['p50']:>6} ms  p95 {r['search_page_ms']['p95']:>6} ms  "
              f"queries/page {r['search_page_queries']['min']}–{r['search_page_queries']['max']}")
        print(f"  service page p50 {r['service_page_ms']['p50']:>6} ms  p95 {r['service_page_ms']['p95']:>6} ms  "
              f"queries/page {r['service_page_queries']['min']}–{r['service_page_queries']['max']}  (n={r['service_page_ms']['n']})")
        print(f"  service API  p50 {r['service_api_ms']['p50']:>6} ms  p95 {r['service_api_ms']['p95']:>6} ms")


if __name__ == "__main__":
    main()
