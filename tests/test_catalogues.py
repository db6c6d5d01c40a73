"""The shipped catalogues: complete languages at 100%, every catalogue well formed."""
from pathlib import Path

import pytest

from cowin_kit.catalogues import (
    catalogue_languages,
    catalogue_status,
    complete_languages,
    read_catalogue,
)

LOCALES = Path(__file__).resolve().parent.parent / "locales"
COMPLETE = complete_languages(LOCALES)
ALL = catalogue_languages(LOCALES)

# Issue 3: these must be complete (English is the source language).
REQUIRED_COMPLETE = {"es", "fr", "ar", "hi", "uk", "az", "vi", "sw", "bn", "ta", "te"}


def test_the_required_languages_are_held_complete():
    assert REQUIRED_COMPLETE <= set(COMPLETE)


def test_every_profile_language_has_a_catalogue():
    from cowin_kit.profiles import load_profile, shipped_codes

    have = set(ALL) | {"en"}
    missing = {lang for code in shipped_codes() for lang in load_profile(code).languages} - have
    assert missing == set(), f"start them with `cowin-kit i18n init LANG`: {sorted(missing)}"


@pytest.mark.parametrize("lang", ALL)
def test_catalogue_is_well_formed_and_records_its_review(lang):
    status = catalogue_status(LOCALES, lang)
    assert [str(p) for p in status.problems] == []
    assert status.review_status != "unknown", "add '# Review status: …' as the first line"


@pytest.mark.parametrize("lang", COMPLETE)
def test_complete_language_is_at_100_percent(lang):
    status = catalogue_status(LOCALES, lang)
    assert (status.translated, status.fuzzy) == (status.total, 0), (
        f"{lang}: {status.translated}/{status.total} translated, {status.fuzzy} fuzzy")


def test_template_is_up_to_date_with_the_code(tmp_path):
    """messages.pot holds every marked string (run `cowin-kit i18n extract`)."""
    from cowin_kit.catalogues import extract

    (tmp_path / "messages.pot").write_text("")
    extract(LOCALES.parent, tmp_path)
    fresh = {m.id for m in read_catalogue(tmp_path / "messages.pot") if m.id}
    shipped = {m.id for m in read_catalogue(LOCALES / "messages.pot") if m.id}
    assert fresh == shipped
