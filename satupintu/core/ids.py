"""Identifiers that people type: short, not guessable in sequence, with a check character.

Codes use Crockford's base-32 alphabet (no I, L, O, U) and end in a Luhn mod-32 check
character, so a single mistyped character or a swap of two neighbours (all but 0<->Z) is caught before any
lookup. Reading is forgiving: lower case, spaces, dashes, and O/I/L typed for 0/1/1.
"""

import secrets
from collections.abc import Callable

from django.db import IntegrityError, transaction

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
N = len(ALPHABET)


def check_char(body: str) -> str:
    """Luhn mod N check character for `body` (characters of ALPHABET)."""
    total, factor = 0, 2
    for ch in reversed(body):
        addend = factor * _INDEX[ch]
        addend = addend // N + addend % N
        total += addend
        factor = 1 if factor == 2 else 2
    return ALPHABET[(N - total % N) % N]


def new_code(length: int = 6) -> str:
    """`length` random characters followed by a check character."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(length))
    return body + check_char(body)


def save_with_new_code(instance, field: str = "code", length: int = 6, *, save: Callable[[], object] | None = None) -> str:
    """Give `instance.<field>` a new code and store it with `save()` (default: insert `instance`),
    inside a savepoint. The field's unique index refuses a code already in use (random codes
    collide now and then: with 6 characters, about 1 in 1,000 at a million rows); the code is then
    drawn again. An integrity error for anything else is raised as it is. `save` must write
    nothing it cannot do again. Returns the code."""
    model = type(instance)
    save = save or (lambda: instance.save(force_insert=True))
    for _attempt in range(20):
        code = new_code(length)
        setattr(instance, field, code)
        try:
            with transaction.atomic():
                save()
            return code
        except IntegrityError:
            if not model._default_manager.filter(**{field: code}).exists():
                raise  # another unique rule refused the row
    raise RuntimeError(f"no free {model.__name__}.{field} of length {length}")


def normalise(code: str) -> str | None:
    """The canonical form of a typed code, or None when it is malformed or its check fails."""
    text = (code or "").upper().replace(" ", "").replace("-", "").translate(_ALIASES)
    if len(text) < 2 or any(c not in _INDEX for c in text):
        return None
    return text if check_char(text[:-1]) == text[-1] else None
