from pathlib import Path

PO = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES" / "django.po"


def test_every_interface_string_has_an_english_translation():
    text = PO.read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    entries = text.split("\n\n")[1:]  # the first block is the header
    untranslated = [e for e in entries if 'msgstr ""' in e and "msgstr[" not in e and not e.rstrip().endswith('"')]
    untranslated += [e for e in entries if 'msgstr[0] ""' in e or 'msgstr[1] ""' in e]
    empty = [e for e in entries if e.rstrip().endswith('msgstr ""')]
    assert not empty and not untranslated, (empty or untranslated)[0]
    assert (PO.parent / "django.mo").stat().st_mtime >= PO.stat().st_mtime - 5, "run compilemessages"
