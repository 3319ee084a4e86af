import pytest
from hypothesis import given
from hypothesis import strategies as st

from satupintu.core import ids


def test_new_codes_validate_and_differ():
    codes = [ids.new_code() for _ in range(2000)]
    # 32^6 possible codes: one repeat in 2,000 happens by chance (~0.2 % of runs); more means
    # a broken generator
    assert len(set(codes)) >= 1998
    assert all(len(c) == 7 and ids.normalise(c) == c for c in codes)


def test_forgiving_reading():
    code = ids.new_code()
    assert ids.normalise(f" {code[:3].lower()}-{code[3:]} ") == code


@given(st.text(alphabet=ids.ALPHABET, min_size=4, max_size=10), st.data())
def test_any_single_substitution_is_caught(body, data):
    code = body + ids.check_char(body)
    pos = data.draw(st.integers(0, len(code) - 1))
    other = data.draw(st.sampled_from([c for c in ids.ALPHABET if c != code[pos]]))
    assert ids.normalise(code[:pos] + other + code[pos + 1:]) is None


@given(st.text(alphabet=ids.ALPHABET, min_size=4, max_size=10), st.data())
def test_adjacent_swaps_are_caught(body, data):
    code = body + ids.check_char(body)
    pos = data.draw(st.integers(0, len(code) - 2))
    # Luhn mod 32 misses exactly one swap, 0<->Z (as mod 10 misses 09<->90)
    if code[pos] != code[pos + 1] and {code[pos], code[pos + 1]} != {"0", "Z"}:
        swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2:]
        assert ids.normalise(swapped) is None


def test_the_one_undetected_swap_is_0_and_z():
    import itertools

    missed = set()
    for body in ("".join(p) for p in itertools.product(ids.ALPHABET, repeat=2)):
        code = body + ids.check_char(body)
        for i in range(len(code) - 1):
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
            if code[i] != code[i + 1] and ids.normalise(swapped) is not None:
                missed.add(frozenset((code[i], code[i + 1])))
    assert missed <= {frozenset("0Z")}


def test_garbage():
    for bad in ("", "1", "!!!!!!", "ABCDEFU"):
        assert ids.normalise(bad) is None


def _entry(**kw):
    from satupintu.core.models import AuditEntry

    return AuditEntry(at="2026-01-01T00:00:00Z", actor_label="x", action="x", object_type="x", object_id="x", digest="0", **kw)


def test_a_code_in_use_is_drawn_again(db, monkeypatch):
    """AuditEntry.hash stands in for any unique code field."""
    from satupintu.core import ids
    from satupintu.core.models import AuditEntry

    ids.save_with_new_code(_entry(), "hash")
    taken = AuditEntry.objects.get().hash
    draws = iter([taken, "BBBBBB0"])
    monkeypatch.setattr(ids, "new_code", lambda length: next(draws))
    entry = _entry()
    assert ids.save_with_new_code(entry, "hash") == "BBBBBB0"
    assert AuditEntry.objects.get(pk=entry.pk).hash == "BBBBBB0" and AuditEntry.objects.count() == 2


def test_another_unique_rule_is_not_taken_for_a_repeated_code(db, monkeypatch):
    from django.db import IntegrityError

    from satupintu.core import ids
    from satupintu.core.models import AuditEntry

    ids.save_with_new_code(_entry(seq=1), "hash")
    draws = []
    monkeypatch.setattr(ids, "new_code", lambda length: draws.append(length) or f"C{len(draws):05d}0")
    with pytest.raises(IntegrityError):
        ids.save_with_new_code(_entry(seq=1), "hash")  # the seq is taken, not the code
    assert len(draws) == 1 and AuditEntry.objects.count() == 1


def test_a_custom_save_runs_again_with_the_new_code(db, monkeypatch):
    from satupintu.core import ids
    from satupintu.core.models import AuditEntry

    ids.save_with_new_code(_entry(), "hash")
    taken = AuditEntry.objects.get().hash
    draws, saves = iter([taken, "DDDDDD0"]), []
    monkeypatch.setattr(ids, "new_code", lambda length: next(draws))
    entry = _entry()

    def save():
        saves.append(entry.hash)
        entry.save(force_insert=True)

    ids.save_with_new_code(entry, "hash", save=save)
    assert saves == [taken, "DDDDDD0"] and AuditEntry.objects.filter(hash="DDDDDD0").exists()
