"""`cowin-kit i18n extract|init|update|compile|status`: the translator's workflow."""
from __future__ import annotations

from pathlib import Path

import click

from cowin_kit.cli.common import Refused

locales_option = click.option(
    "--locales", "locales", metavar="DIR", type=click.Path(file_okay=False),
    help="Catalogue folder (default: the kit's locales/).")


def _locales(value: str | None) -> Path:
    from cowin_kit.paths import locales_dir

    return Path(value) if value else locales_dir()


@click.group()
def i18n():
    """Translations: extract strings, start and update catalogues, compile, report."""


@i18n.command()
@locales_option
def extract(locales):
    """Collect the marked strings of the code and templates into messages.pot."""
    from cowin_kit.catalogues import CatalogueError, extract as run_extract
    from cowin_kit.paths import PACKAGE_DIR

    target = _locales(locales)
    try:
        count = run_extract(PACKAGE_DIR.parent, target)
    except CatalogueError as exc:
        raise Refused(str(exc)) from None
    click.echo(f"{count} messages in {target / 'messages.pot'}. Next: cowin-kit i18n update")


@i18n.command()
@click.argument("lang")
@locales_option
def init(lang, locales):
    """Start a catalogue for language LANG (ISO 639 code, e.g. qu, ckb, pt_BR)."""
    from cowin_kit.catalogues import CatalogueError, init_catalogue

    try:
        path = init_catalogue(_locales(locales), lang)
    except CatalogueError as exc:
        raise Refused(str(exc)) from None
    click.echo(f"Created {path}. Translate it (any PO editor), then: cowin-kit i18n compile")


@i18n.command()
@locales_option
def update(locales):
    """Bring every catalogue up to date with messages.pot (new strings, fuzzy matches)."""
    from cowin_kit.catalogues import CatalogueError, update_catalogues

    try:
        result = update_catalogues(_locales(locales))
    except CatalogueError as exc:
        raise Refused(str(exc)) from None
    for lang, fuzzy in result.items():
        click.echo(f"{lang}: updated" + (f", {fuzzy} new fuzzy entries to review" if fuzzy else ""))


@i18n.command("compile")
@locales_option
@click.option("--lang", "langs", multiple=True, help="Only this language (repeatable).")
def compile_(locales, langs):
    """Check every catalogue and write its .mo; a broken one is refused with file and line."""
    from cowin_kit.catalogues import CatalogueError, catalogue_languages, compile_catalogue, po_path

    root = _locales(locales)
    failed = []
    for lang in langs or catalogue_languages(root):
        try:
            mo = compile_catalogue(po_path(root, lang))
        except CatalogueError as exc:
            failed.append(str(exc))
            continue
        click.echo(f"compiled {mo}")
    if failed:
        raise Refused("these catalogues were not compiled:\n" + "\n".join(failed))


@i18n.command()
@locales_option
@click.option("--min-percent", type=click.FloatRange(0, 100), default=None,
              help="Fail when a catalogue is below this (with --complete-only: the complete "
                   "languages only).")
@click.option("--complete-only", is_flag=True,
              help="Only the languages locales/languages.toml lists as complete.")
def status(locales, min_percent, complete_only):
    """Per language: translated %, fuzzy entries, placeholder errors, review status."""
    from cowin_kit.catalogues import catalogue_languages, catalogue_status, complete_languages
    from cowin_kit.i18n import language_name

    root = _locales(locales)
    langs = complete_languages(root) if complete_only else catalogue_languages(root)
    rows = [catalogue_status(root, lang) for lang in langs]
    click.echo(f"{'lang':<6}{'language':<22}{'translated':>12}{'%':>7}{'fuzzy':>7}"
               f"{'errors':>8}  {'tier':<9}review status")
    below, broken = [], []
    for r in rows:
        tier = "complete" if r.complete_required else "partial"
        click.echo(f"{r.lang:<6}{language_name(r.lang, 'en')[:21]:<22}"
                   f"{r.translated:>5}/{r.total:<6}{r.percent:>7.1f}{r.fuzzy:>7}"
                   f"{len(r.problems):>8}  {tier:<9}{r.review_status}")
        if r.problems:
            broken.append(r)
        if min_percent is not None and r.percent < min_percent:
            below.append(r)
        if r.complete_required and r.percent < 100:
            below.append(r)
    for r in broken:
        for p in r.problems:
            click.echo(f"  {p}", err=True)
    if broken or below:
        names = sorted({r.lang for r in broken + below})
        raise SystemExit(f"Catalogues that fail: {', '.join(names)}")
