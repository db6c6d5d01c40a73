"""`cowin-kit i18n …` and translations at runtime."""
import shutil
from pathlib import Path

import pytest

from cowin_kit.paths import locales_dir


@pytest.fixture
def locales(tmp_path):
    """A copy of the shipped catalogues that a test may break."""
    target = tmp_path / "locales"
    shutil.copytree(locales_dir(), target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _po(locales, lang):
    return locales / lang / "LC_MESSAGES" / "messages.po"


def _replace_translation(path: Path, msgid: str, new_msgstr: str) -> int:
    """Set the msgstr of ``msgid`` in a .po file; returns the line of its msgid."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line == f'msgid "{msgid}"':
            assert lines[i + 1].startswith("msgstr ")
            lines[i + 1] = f'msgstr "{new_msgstr}"'
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return i + 1
    raise AssertionError(f"{msgid!r} not in {path}")


def test_status_reports_every_catalogue(run_cli):
    result = run_cli("i18n", "status")
    for lang in ("es", "ar", "hi"):
        assert f"\n{lang} " in result.output
    assert "draft, needs review by a native speaker" in result.output
    assert "complete" in result.output


def test_complete_languages_are_complete(run_cli):
    result = run_cli("i18n", "status", "--complete-only", "--min-percent", "100")
    assert result.exit_code == 0, result.output
    assert result.output.count("100.0") >= 11


def test_min_percent_fails_below(run_cli, locales):
    _replace_translation(_po(locales, "es"), "Language", "")
    result = run_cli("i18n", "status", "--locales", locales, "--complete-only")
    assert result.exit_code != 0
    assert "Catalogues that fail: es" in str(result.exception) + result.output


def test_compile_refuses_a_broken_placeholder_with_file_and_line(run_cli, locales, refused):
    po = _po(locales, "es")
    line = _replace_translation(po, "Vaccination in %(country)s", "Vacunación en %(pais)s")
    mo_before = po.with_suffix(".mo").read_bytes()
    result = run_cli("i18n", "compile", "--locales", locales, "--lang", "es")
    refused(result, f"{po}:{line}:", "lacks %(country)s", "has unknown %(pais)s")
    assert po.with_suffix(".mo").read_bytes() == mo_before  # nothing compiled


def test_status_counts_placeholder_errors(run_cli, locales):
    _replace_translation(_po(locales, "fr"), "Vaccination in %(country)s", "Vaccination")
    result = run_cli("i18n", "status", "--locales", locales)
    assert result.exit_code != 0
    fr = next(x for x in result.output.splitlines() if x.startswith("fr "))
    assert fr.split()[5] == "1"  # the errors column


def test_compile_refuses_a_missing_plural_form(run_cli, locales, refused):
    po = _po(locales, "ar")
    text = po.read_text(encoding="utf-8")
    start = text.index('msgid "%(num)s dose"')
    end = text.index("msgstr[5]", start)
    cut = text[:end] + "#" + text[end:]  # comment out the sixth form
    po.write_text(cut, encoding="utf-8")
    refused(run_cli("i18n", "compile", "--locales", locales, "--lang", "ar"),
            str(po), "'%(num)s dose': plural form 5 is empty")


def test_compile_refuses_invalid_syntax_with_line(run_cli, locales, refused):
    po = _po(locales, "uk")
    lines = po.read_text(encoding="utf-8").splitlines()
    idx = next(i for i, x in enumerate(lines) if x.startswith('msgid "Language"'))
    lines[idx] = 'msgid "Language'  # unterminated string
    po.write_text("\n".join(lines) + "\n", encoding="utf-8")
    refused(run_cli("i18n", "compile", "--locales", locales, "--lang", "uk"),
            f"{po}:{idx + 1}: syntax error: unterminated or badly quoted string")


def test_init_update_compile_round_trip(run_cli, locales):
    result = run_cli("i18n", "init", "it", "--locales", locales)
    assert result.exit_code == 0, result.output
    po = _po(locales, "it")
    assert po.read_text(encoding="utf-8").startswith(
        "# Review status: draft, needs review by a native speaker")
    _replace_translation(po, "Language", "Lingua")
    assert run_cli("i18n", "compile", "--locales", locales, "--lang", "it").exit_code == 0
    from cowin_kit.catalogues import load_translations

    assert load_translations("it", [locales]).gettext("Language") == "Lingua"
    result = run_cli("i18n", "status", "--locales", locales)
    it = next(x for x in result.output.splitlines() if x.startswith("it "))
    assert "partial" in it and " 1/" in it


def test_init_refuses_unknown_or_existing_language(run_cli, locales, refused):
    refused(run_cli("i18n", "init", "xx-nope", "--locales", locales),
            "is not an ISO 639 language code")
    refused(run_cli("i18n", "init", "es", "--locales", locales), "already exists",
            "i18n update")


def test_extract_and_update_from_the_source_checkout(run_cli, locales):
    (locales / "messages.pot").write_text('msgid ""\nmsgstr ""\n', encoding="utf-8")
    result = run_cli("i18n", "extract", "--locales", locales)
    assert result.exit_code == 0, result.output
    pot = (locales / "messages.pot").read_text(encoding="utf-8")
    assert 'msgid "Vaccines offered"' in pot and 'msgid "Page not found"' in pot
    assert run_cli("i18n", "update", "--locales", locales).exit_code == 0


def test_translations_outside_a_request():
    from cowin_kit.catalogues import load_translations

    assert load_translations("es", [locales_dir()]).gettext("Language") == "Idioma"
    assert load_translations("zz", [locales_dir()]).gettext("Language") == "Language"


@pytest.fixture
def translation_plugin(tmp_path, monkeypatch):
    """A real installed distribution shipping its own catalogue through the entry point."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    site = tmp_path / "site"
    package = site / "ck_extra_strings"
    (package / "es" / "LC_MESSAGES").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    catalog = Catalog(locale="es")
    catalog.add("Registry unavailable", "Registro no disponible")
    catalog.add("Language", "LENGUA DEL PLUGIN")  # must not override the core
    with (package / "es" / "LC_MESSAGES" / "messages.mo").open("wb") as fh:
        write_mo(fh, catalog)
    info = site / "ck_extra_strings-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ck-extra-strings\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[cowin_kit.translations]\nextra = ck_extra_strings\n")
    monkeypatch.syspath_prepend(str(site))
    import importlib

    importlib.invalidate_caches()
    return package


def test_plugin_catalogues_are_merged_at_runtime(translation_plugin, cowin_kit_instance, run_cli):
    from flask_babel import gettext

    from cowin_kit.app import create_app

    app = create_app({"INSTANCE_PATH": cowin_kit_instance})
    try:
        with app.test_request_context("/?lang=es"):
            assert gettext("Registry unavailable") == "Registro no disponible"
            assert gettext("Language") == "Idioma"
    finally:
        app.extensions["cowin_kit"].db.dispose()
    result = run_cli("plugins", "list")
    assert "cowin_kit.translations:" in result.output and "extra" in result.output


def test_init_works_for_one_plural_form_languages_and_for_languages_cldr_lacks(run_cli,
                                                                               locales):
    shutil.rmtree(locales / "yo")
    shutil.rmtree(locales / "ay")
    for lang in ("yo", "ay"):
        result = run_cli("i18n", "init", lang, "--locales", locales)
        assert result.exit_code == 0, result.output
        assert run_cli("i18n", "compile", "--locales", locales, "--lang", lang).exit_code == 0
    assert 'msgstr[1]' not in _po(locales, "yo").read_text(encoding="utf-8")  # one form
    assert '"Language: ay\\n"' in _po(locales, "ay").read_text(encoding="utf-8")


def test_untranslated_plural_messages_fall_back_to_english(locales):
    from cowin_kit.catalogues import compile_catalogue, load_translations

    compile_catalogue(_po(locales, "ig"))
    t = load_translations("ig", [locales])
    text = t.ngettext("%(num)s booster", "%(num)s boosters", 2)
    assert text == "%(num)s boosters" or "%(num)s" in text


def test_pages_never_offer_a_language_babel_cannot_format(app):
    # PE's profile names Aymara; it has a catalogue but CLDR has no data for it.
    assert "ay" not in app.extensions["cowin_kit"].languages
    assert app.test_client().get("/?lang=ay").status_code == 200


def test_compile_refuses_a_stray_percent_sign(run_cli, locales, refused):
    po = _po(locales, "es")
    line = _replace_translation(po, "Vaccination in %(country)s",
                                "Vacunación en %(country)s al 100 %")
    refused(run_cli("i18n", "compile", "--locales", locales, "--lang", "es"),
            f"{po}:{line}:", "breaks %-formatting", "%%")


def test_init_refuses_the_source_language(run_cli, locales, refused):
    refused(run_cli("i18n", "init", "en", "--locales", locales), "English is the source")


@pytest.mark.parametrize("header,expected", [
    ("ar-AE,en;q=0.5", "ar"),
    ("en-GB,ar;q=0.5", "en"),
    ("fr-CA, fr;q=0.9", "ar"),  # AE offers ar and en only: the profile's default
])
@pytest.mark.parametrize("cowin_kit_country", ["AE"])
def test_regional_browser_languages_match_their_language(client, cowin_kit_country, header,
                                                         expected):
    page = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{expected}"' in page


def test_core_plural_rules_win_over_a_plugin_catalogue(tmp_path):
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    from cowin_kit.catalogues import load_translations

    plugin = tmp_path / "plugin"
    (plugin / "ar" / "LC_MESSAGES").mkdir(parents=True)
    catalog = Catalog(locale="en")  # two plural forms, the wrong rule for Arabic
    catalog.add("Registry unavailable", "السجل غير متاح")
    with (plugin / "ar" / "LC_MESSAGES" / "messages.mo").open("wb") as fh:
        write_mo(fh, catalog)
    t = load_translations("ar", [plugin, locales_dir()])
    assert t.gettext("Registry unavailable") == "السجل غير متاح"
    core = load_translations("ar", [locales_dir()])
    assert t.ngettext("%(num)s dose", "%(num)s doses", 3) == core.ngettext(
        "%(num)s dose", "%(num)s doses", 3)
