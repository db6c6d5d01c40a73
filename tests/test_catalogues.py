"""The shipped catalogues are complete and their placeholders match the source."""
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parent.parent / "locales"
CATALOGUES = sorted(LOCALES.glob("*/LC_MESSAGES/messages.po"))


def _read(path):
    with path.open("rb") as fh:
        return read_po(fh)


def test_catalogues_exist_for_the_profiles_default_languages():
    from cowin_kit.profiles import load_profile, shipped_codes

    have = {p.parent.parent.name for p in CATALOGUES} | {"en"}
    for code in shipped_codes():
        assert load_profile(code).default_language in have, code


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_catalogue_is_complete_and_well_formed(po_path):
    template = _read(LOCALES / "messages.pot")
    catalogue = _read(po_path)
    assert catalogue.header_comment.startswith("# Review status:")
    errors = [(m.id, [str(e) for e in errs]) for m, errs in catalogue.check()]
    assert errors == []
    for message in template:
        if not message.id:
            continue
        translated = catalogue.get(message.id)
        assert translated is not None and not translated.fuzzy, message.id
        strings = [translated.string] if isinstance(translated.string, str) else translated.string
        assert all(strings), f"untranslated: {message.id!r}"
