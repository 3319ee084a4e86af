import re
from pathlib import Path

PO = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES" / "django.po"


def test_every_interface_string_has_an_english_translation():
    text = PO.read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    entries = text.split("\n\n")[1:]  # the first block is the header
    untranslated = [e for e in entries if 'msgstr ""' in e and "msgstr[" not in e and not e.rstrip().endswith('"')]
    # a plural form is empty when its `""` is not continued on the next line
    untranslated += [e for e in entries if re.search(r'^msgstr\[\d\] ""\n(?!")', e + "\n", re.M)]
    empty = [e for e in entries if e.rstrip().endswith('msgstr ""')]
    assert not empty and not untranslated, (empty or untranslated)[0]
    assert (PO.parent / "django.mo").stat().st_mtime >= PO.stat().st_mtime - 5, "run compilemessages"


def test_application_history_labels_are_translated():
    """The history's labels are lazy strings: each must reach the .po (an alias such as `_l`
    is not extracted by makemessages, and the page then mixes the two languages)."""
    from django.utils import translation

    from satupintu.cases.selectors import ACTION_LABELS

    with translation.override("id"):
        indonesian = {k: str(v) for k, v in ACTION_LABELS.items()}
    with translation.override("en"):
        same = [k for k, v in ACTION_LABELS.items() if str(v) == indonesian[k]]
    assert not same
