import threading

import pytest
from django.db import connection
from django.test import RequestFactory

from satupintu.core import ratelimit
from satupintu.core.errors import RateLimited
from satupintu.core.http import client_ip
from satupintu.core.models import RateLimitCounter

pytestmark = pytest.mark.django_db

T0 = 1_800_000_000.0  # a multiple of 600 and 900: windows start exactly here


@pytest.fixture
def clock(monkeypatch):
    now = {"t": T0}
    monkeypatch.setattr(ratelimit, "_now", lambda: now["t"])
    return now


def test_check_refuses_past_the_limit_with_retry_after(clock):
    for _ in range(3):
        ratelimit.check("otp:+6281234567890", limit=3, window_seconds=600)
    clock["t"] += 100.2
    with pytest.raises(RateLimited) as exc:
        ratelimit.check("otp:+6281234567890", limit=3, window_seconds=600)
    assert exc.value.status == 429 and exc.value.code == "rate_limited"
    assert exc.value.retry_after == 500 and exc.value.details == {"retry_after": 500}
    assert "500 detik" in exc.value.message
    ratelimit.check("otp:+6289999999999", limit=3, window_seconds=600)  # another key is untouched


def test_an_offset_moves_the_windows_to_a_sites_midnight(clock):
    day, wib = 86400, 7 * 3600
    midnight_utc = 1_799_971_200.0  # a multiple of a day: 00:00 UTC, 07:00 WIB
    clock["t"] = midnight_utc - 2 * 3600  # 22:00 UTC, 05:00 WIB
    ratelimit.check("k:day", limit=1, window_seconds=day, offset_seconds=wib)
    with pytest.raises(RateLimited) as exc:
        ratelimit.check("k:day", limit=1, window_seconds=day, offset_seconds=wib)
    assert exc.value.retry_after == 19 * 3600  # until 00:00 WIB, 17:00 UTC
    clock["t"] = midnight_utc + 3600  # a new UTC day, the same WIB day: still refused
    with pytest.raises(RateLimited):
        ratelimit.check("k:day", limit=1, window_seconds=day, offset_seconds=wib)
    clock["t"] = midnight_utc + 17 * 3600  # 00:00 WIB
    ratelimit.check("k:day", limit=1, window_seconds=day, offset_seconds=wib)
    assert ratelimit.count("k:day", window_seconds=day, offset_seconds=wib) == 1


def test_a_new_window_starts_from_zero(clock):
    for _ in range(2):
        ratelimit.check("k:a", limit=2, window_seconds=600)
    with pytest.raises(RateLimited):
        ratelimit.check("k:a", limit=2, window_seconds=600)
    clock["t"] += 600
    ratelimit.check("k:a", limit=2, window_seconds=600)
    assert ratelimit.count("k:a", window_seconds=600) == 1


def test_ensure_allowed_does_not_count_and_reset_forgets(clock):
    ratelimit.ensure_allowed("k:b", limit=1, window_seconds=60)
    assert ratelimit.count("k:b", window_seconds=60) == 0
    ratelimit.hit("k:b", window_seconds=60)
    with pytest.raises(RateLimited):
        ratelimit.ensure_allowed("k:b", limit=1, window_seconds=60)
    ratelimit.reset("k:b")
    ratelimit.ensure_allowed("k:b", limit=1, window_seconds=60)


def test_keys_are_stored_hashed_with_a_readable_scope(clock):
    ratelimit.hit("login:siti@example.test:10.0.0.1", window_seconds=60)
    row = RateLimitCounter.objects.get()
    assert row.scope == "login" and "siti" not in row.key and len(row.key) == 64
    assert (row.window_start, row.expires_at, row.count) == (T0, T0 + 60, 1)


def test_prune_deletes_only_ended_windows(clock):
    ratelimit.hit("k:old", window_seconds=60)
    clock["t"] += 60
    ratelimit.hit("k:new", window_seconds=60)
    assert ratelimit.prune() == 1
    assert list(RateLimitCounter.objects.values_list("scope", "count")) == [("k", 1)]
    assert ratelimit.count("k:new", window_seconds=60) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_hits_are_all_counted():
    errors = []

    def worker():
        try:
            for _ in range(10):
                ratelimit.hit("k:shared", window_seconds=3600)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ratelimit.count("k:shared", window_seconds=3600) == 40


@pytest.mark.parametrize("proxies,xff,remote,expected", [
    (0, "", "10.1.2.3", "10.1.2.3"),
    (0, "203.0.113.9", "10.1.2.3", "10.1.2.3"),  # no trusted proxy: the header is the client's word
    (1, "203.0.113.9", "10.0.0.1", "203.0.113.9"),
    (1, "6.6.6.6, 203.0.113.9", "10.0.0.1", "203.0.113.9"),  # spoofed entry on the left is ignored
    (2, "6.6.6.6, 203.0.113.9, 10.0.0.5", "10.0.0.1", "203.0.113.9"),
    (2, "203.0.113.9", "10.0.0.1", "203.0.113.9"),  # fewer entries than proxies: the leftmost
    (1, "not-an-ip", "10.0.0.1", "10.0.0.1"),
    (1, "", "10.0.0.1", "10.0.0.1"),
    (1, "2001:db8::1", "10.0.0.1", "2001:db8::1"),
])
def test_client_ip(settings, proxies, xff, remote, expected):
    settings.SATUPINTU_TRUSTED_PROXIES = proxies
    headers = {"HTTP_X_FORWARDED_FOR": xff} if xff else {}
    request = RequestFactory().get("/", REMOTE_ADDR=remote, **headers)
    assert client_ip(request) == expected
