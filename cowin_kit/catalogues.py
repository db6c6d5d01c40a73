"""Gettext catalogues for translators: extract, init, update, check, compile, status.

Built on Babel. Knows nothing of Flask. A catalogue with a syntax error, a placeholder
that does not match its source or a missing plural form is refused with its file and line;
nothing is compiled from it.
"""
from __future__ import annotations

import io
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po, write_po

DOMAIN = "messages"
TEMPLATE = f"{DOMAIN}.pot"
LANGUAGES_FILE = "languages.toml"
DRAFT_STATUS = "draft, needs review by a native speaker"
# %(name)s, %(num)d, … (named placeholders, as flask-babel formats them); %% is a literal.
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifr]")


@dataclass
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class CatalogueError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class CatalogueStatus:
    lang: str
    path: Path
    total: int
    translated: int
    fuzzy: int
    problems: list[Problem] = field(default_factory=list)
    review_status: str = "unknown"
    complete_required: bool = False

    @property
    def percent(self) -> float:
        return 100.0 if self.total == 0 else 100.0 * self.translated / self.total


def po_path(locales: Path, lang: str) -> Path:
    return locales / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def catalogue_languages(locales: Path) -> list[str]:
    return sorted(p.parent.parent.name for p in locales.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def complete_languages(locales: Path) -> list[str]:
    """Languages held at 100% (listed in locales/languages.toml)."""
    file = locales / LANGUAGES_FILE
    if not file.exists():
        return []
    with file.open("rb") as fh:
        return list(tomllib.load(fh).get("complete", []))


_PO_STRING = r'"(?:[^"\\]|\\.)*"'
_PO_LINE = re.compile(
    rf'^(?:(?:msgctxt|msgid|msgid_plural|msgstr|msgstr\[\d+\])\s+)?{_PO_STRING}\s*$')


def _syntax_problems(path: Path, text: str) -> list[Problem]:
    """Babel's parser forgives some broken lines silently; this checks each line first."""
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not _PO_LINE.match(stripped):
            hint = ("unterminated or badly quoted string" if '"' in stripped
                    else "not a PO keyword or quoted string")
            problems.append(Problem(str(path), number, f"syntax error: {hint}: {stripped[:60]}"))
    return problems


def read_catalogue(path: Path, locale: str | None = None) -> Catalog:
    """Parse a .po/.pot file; a syntax error is a CatalogueError naming file and line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogueError([Problem(str(path), 0, f"cannot be read: {exc.strerror}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogueError([Problem(str(path), data[:exc.start].count(b"\n") + 1,
                                      "is not UTF-8 text")]) from None
    syntax = _syntax_problems(path, text)
    if syntax:
        raise CatalogueError(syntax)
    try:
        return read_po(io.BytesIO(data), locale=locale, abort_invalid=True)
    except PoFileError as exc:
        line = getattr(exc, "lineno", 0) or 0
        raise CatalogueError([Problem(str(path), line, f"syntax error: {exc}")]) from None
    except (ValueError, UnknownLocaleError) as exc:
        raise CatalogueError([Problem(str(path), 0, f"invalid catalogue: {exc}")]) from None


def review_status(catalog: Catalog) -> str:
    for line in (catalog.header_comment or "").splitlines():
        if line.lstrip("# ").lower().startswith("review status:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text or ""))


def check_message(message: Message, num_plurals: int, file: str) -> list[Problem]:
    """Placeholder and plural-form problems of one translated message."""
    line = message.lineno or 0
    problems: list[Problem] = []
    if not message.string or message.fuzzy:
        return problems
    if message.pluralizable:
        ids = list(message.id)
        strings = list(message.string) if not isinstance(message.string, str) else [message.string]
        if not any(strings):
            return problems
        if len(strings) != num_plurals:
            problems.append(Problem(file, line, f"{message.id[0]!r} has {len(strings)} plural "
                                                f"form(s); this language needs {num_plurals}"))
        source = _placeholders(ids[0]) | _placeholders(ids[1])
        for i, text in enumerate(strings):
            if not text:
                problems.append(Problem(file, line, f"{ids[0]!r}: plural form {i} is empty"))
                continue
            got = _placeholders(text)
            broken = _format_problem(text, source | {"num"})
            if broken:
                problems.append(Problem(file, line, f"{ids[0]!r}: form {i} {broken}"))
            # A plural form may leave out the number itself (e.g. "one dose"), nothing else.
            required = source - {"num"}
            if got - source:
                problems.append(Problem(file, line, f"{ids[0]!r}: form {i} has unknown "
                                                    f"placeholder(s) {_fmt(got - source)}"))
            if required - got:
                problems.append(Problem(file, line, f"{ids[0]!r}: form {i} lacks "
                                                    f"placeholder(s) {_fmt(required - got)}"))
    else:
        source, got = _placeholders(message.id), _placeholders(message.string)
        broken = _format_problem(message.string, source)
        if broken:
            problems.append(Problem(file, line, f"{message.id!r}: translation {broken}"))
        if source != got:
            detail = []
            if source - got:
                detail.append(f"lacks {_fmt(source - got)}")
            if got - source:
                detail.append(f"has unknown {_fmt(got - source)}")
            problems.append(Problem(file, line, f"{message.id!r}: translation "
                                                f"{' and '.join(detail)}"))
    return problems


def _format_problem(text: str, names: set[str]) -> str | None:
    """Why ``text % {names}`` would fail at runtime (a stray %, a bad conversion), or None."""
    if not names:
        return None
    try:
        text % {name: 1 for name in names}
    except (ValueError, TypeError, KeyError) as exc:
        return f"breaks %-formatting ({exc}); write a literal percent sign as %%"
    return None


def _fmt(names: set[str]) -> str:
    return ", ".join(f"%({n})s" for n in sorted(names))


def check_catalogue(path: Path) -> tuple[Catalog, list[Problem]]:
    lang = path.parent.parent.name
    # For a language CLDR lacks, the plural rule comes from the file's Plural-Forms header.
    catalog = read_catalogue(path, locale=lang if babel_knows(lang) else None)
    problems = []
    for message in catalog:
        if message.id:
            problems.extend(check_message(message, catalog.num_plurals, str(path)))
    return catalog, problems


def catalogue_status(locales: Path, lang: str) -> CatalogueStatus:
    path = po_path(locales, lang)
    template = read_catalogue(locales / TEMPLATE)
    try:
        catalog, problems = check_catalogue(path)
    except CatalogueError as exc:
        return CatalogueStatus(lang, path, sum(1 for m in template if m.id), 0, 0, exc.problems)
    translated = fuzzy = 0
    total = 0
    for source in template:
        if not source.id:
            continue
        total += 1
        message = catalog.get(source.id)
        if message is None or not _is_translated(message):
            continue
        if message.fuzzy:
            fuzzy += 1
        else:
            translated += 1
    return CatalogueStatus(lang, path, total, translated, fuzzy, problems,
                           review_status(catalog), lang in complete_languages(locales))


def _is_translated(message: Message) -> bool:
    if isinstance(message.string, str):
        return bool(message.string)
    return bool(message.string) and all(message.string)


def compile_catalogue(path: Path) -> Path:
    """Write the .mo beside ``path``; refuse (CatalogueError) when the catalogue is broken."""
    catalog, problems = check_catalogue(path)
    if problems:
        raise CatalogueError(problems)
    # Babel would compile an untranslated plural message as empty forms; leave it out
    # so that gettext falls back to the English source instead of showing nothing.
    for message in list(catalog):
        if message.id and message.pluralizable and not any(message.string):
            catalog.delete(message.id, context=message.context)
    mo = path.with_suffix(".mo")
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    mo.write_bytes(buffer.getvalue())
    return mo


def babel_knows(lang: str) -> bool:
    try:
        Locale.parse(lang)
        return True
    except (UnknownLocaleError, ValueError):
        return False


def init_catalogue(locales: Path, lang: str) -> Path:
    """Start a catalogue for ``lang`` from the template, marked as a draft.

    A language that CLDR does not know yet (e.g. Aymara, ``ay``) but ISO 639 does still gets
    a catalogue, with the common plural rule "one / other", so its translation can start;
    pages can only offer it once Babel knows the language.
    """
    import pycountry

    if lang.lower().split("_")[0] == "en":
        raise CatalogueError([Problem(lang, 0, "English is the source language: its texts are "
                                               "the msgids themselves, so it has no catalogue")])
    known = babel_knows(lang)
    if not known and not (pycountry.languages.get(alpha_2=lang)
                          or pycountry.languages.get(alpha_3=lang)):
        raise CatalogueError([Problem(lang, 0, "is not an ISO 639 language code; use e.g. "
                                               "'qu', 'ckb' or 'pt_BR'")])
    path = po_path(locales, lang)
    if path.exists():
        raise CatalogueError([Problem(str(path), 0, "already exists; use `cowin-kit i18n "
                                                    "update` to bring it up to date")])
    template = read_catalogue(locales / TEMPLATE)
    if known:
        catalog = Catalog(locale=lang)
    else:
        catalog = Catalog(locale=None)
        catalog._num_plurals, catalog._plural_expr = 2, "(n != 1)"
    name = (Locale.parse(lang).english_name if known else
            (pycountry.languages.get(alpha_2=lang) or pycountry.languages.get(alpha_3=lang)).name)
    catalog.project, catalog.version = "cowin-kit", template.version
    catalog.fuzzy = False
    catalog.language_team = "cowin-kit translators"
    catalog.header_comment = (
        f"# Review status: {DRAFT_STATUS}\n"
        f"# {name} translations for cowin-kit.\n"
        "# See docs/translating.md.")
    for message in template:
        if not message.id:
            continue
        empty = ("",) * catalog.num_plurals if message.pluralizable else ""
        catalog.add(message.id, empty, context=message.context,
                    auto_comments=message.auto_comments, flags=message.flags - {"fuzzy"})
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, catalog)
    if not known:
        # Babel writes no Language header without a Locale; gettext tools want one.
        text = path.read_text(encoding="utf-8").replace(
            '"MIME-Version: 1.0\\n"', f'"Language: {lang}\\n"\n"MIME-Version: 1.0\\n"', 1)
        path.write_text(text, encoding="utf-8")
    return path


def update_catalogues(locales: Path) -> dict[str, int]:
    """Merge the template into every catalogue; returns new fuzzy entries per language."""
    template = read_catalogue(locales / TEMPLATE)
    result = {}
    for lang in catalogue_languages(locales):
        path = po_path(locales, lang)
        catalog = read_catalogue(path, locale=lang if babel_knows(lang) else None)
        before = {m.id for m in catalog if m.fuzzy}
        catalog.update(template, no_fuzzy_matching=False)
        result[lang] = len({m.id for m in catalog if m.fuzzy} - before)
        _write(path, catalog)
    return result


def _write(path: Path, catalog: Catalog) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, no_location=True, sort_output=True,
             ignore_obsolete=True)
    path.write_bytes(buffer.getvalue())


def extract(source_root: Path, locales: Path) -> int:
    """Extract marked strings from the code and templates into messages.pot."""
    from babel.messages.frontend import CommandLineInterface

    from cowin_kit import __version__

    config = source_root / "babel.cfg"
    if not config.exists():
        raise CatalogueError([Problem(str(config), 0, "not found; `i18n extract` runs in a "
                                                      "source checkout of cowin-kit")])
    CommandLineInterface().run([
        "pybabel", "-q", "extract", "-F", str(config), "-k", "_l", "-k", "lazy_gettext",
        "-k", "N_", "-o", str(locales / TEMPLATE), "--project", "cowin-kit",
        "--version", __version__, "--no-location", "--sort-output", str(source_root)])
    return sum(1 for m in read_catalogue(locales / TEMPLATE) if m.id)


# --- at runtime -----------------------------------------------------------------------

OFFER_MIN_PERCENT = 80.0  # a partial language is offered on pages from this coverage on


@lru_cache(maxsize=8)
def _template_ids(pot: Path, _mtime: float) -> frozenset:
    """The template's message ids, read once per file version (the app asks per language)."""
    return frozenset(m.id if isinstance(m.id, str) else m.id[0]
                     for m in read_catalogue(pot) if m.id)


def compiled_coverage(locales: Path, lang: str) -> float:
    """Percentage of the template's messages that the compiled catalogue translates."""
    from babel.messages.mofile import read_mo

    mo = po_path(locales, lang).with_suffix(".mo")
    if not mo.exists():
        return 0.0
    pot = locales / TEMPLATE
    template_ids = _template_ids(pot, pot.stat().st_mtime)
    with mo.open("rb") as fh:
        compiled = {m.id if isinstance(m.id, str) else m.id[0] for m in read_mo(fh) if m.id}
    if not template_ids:
        return 100.0
    return 100.0 * len(template_ids & compiled) / len(template_ids)


def load_translations(lang: str, directories: list[Path]):
    """gettext translations for ``lang`` outside a request (SMS, certificates, workers).

    Later directories override earlier ones, as in the web app (the core's come last).
    """
    from babel.support import NullTranslations, Translations

    loaded = [t for t in (Translations.load(str(d), [lang], DOMAIN) for d in directories)
              if isinstance(t, Translations)]
    if not loaded:
        return NullTranslations()
    # The last directory (the core) gives the plural rule and wins on shared messages;
    # plugins only add their own.
    result = loaded[-1]
    for extra in loaded[:-1]:
        for key, value in extra._catalog.items():
            result._catalog.setdefault(key, value)
    return result
