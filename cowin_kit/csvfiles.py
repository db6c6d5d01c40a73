"""Reading operator-supplied CSV files: header checks and errors with line numbers.

Every import validates the whole file first and writes nothing when a line is wrong,
so a bad file never leaves half its rows behind.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CsvProblems(Exception):
    file: str
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)

    def __str__(self) -> str:
        shown = [f"{self.file}:{line}: {msg}" for line, msg in self.problems[:50]]
        if len(self.problems) > 50:
            shown.append(f"… and {len(self.problems) - 50} more problem(s)")
        return "\n".join(shown)


def read_rows(path: Path | str, required: Iterable[str], optional: Iterable[str] = (),
              optional_prefixes: Iterable[str] = ()) -> list[tuple[int, dict[str, str]]]:
    """Return [(line_number, row)] or raise CsvProblems naming the file, line and column."""
    path = Path(path)
    required, optional, prefixes = list(required), set(optional), tuple(optional_prefixes)
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel writes a BOM
    except FileNotFoundError:
        raise CsvProblems(str(path), [(0, "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise CsvProblems(str(path), [(0, f"is not UTF-8 text ({exc.reason}); save it as "
                                          "CSV UTF-8")]) from None
    except OSError as exc:
        raise CsvProblems(str(path), [(0, f"cannot be read: {exc.strerror}")]) from None
    lines = text.splitlines()
    delimiter = detect_delimiter(lines[0] if lines else "", [*required, *optional], prefixes)
    reader = csv.DictReader(lines, delimiter=delimiter)
    header = reader.fieldnames or []
    missing = [c for c in required if c not in header]
    unknown = [c for c in header
               if c not in required and c not in optional and not c.startswith(prefixes)]
    problems = []
    if missing:
        problems.append((1, f"missing column(s) {', '.join(missing)}; the header must have "
                            f"{', '.join(required)}" + _separator_hint(lines[0] if lines
                                                                        else "")))
    if unknown:
        problems.append((1, f"unknown column(s) {', '.join(unknown)}"))
    if problems:
        raise CsvProblems(str(path), problems)
    rows = []
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                raise CsvProblems(str(path), [(line, "more values than columns in the header")])
            rows.append((line, {k: (v or "").strip() for k, v in row.items()}))
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        raise CsvProblems(str(path),
                          [(reader.line_num + 1, f"cannot be read as CSV: {exc}")]) from None
    if not rows:
        raise CsvProblems(str(path), [(2, "no data rows after the header")])
    return rows


# Excel saves "CSV" with the list separator of the computer's region: a semicolon wherever
# the comma is the decimal sign (Peru, most of Europe and Latin America), a tab for "Unicode
# text". Such files are read as they are.
DELIMITERS = (",", ";", "\t")
_NAMES = {",": "comma (,)", ";": "semicolon (;)", "\t": "tab"}


def detect_delimiter(header: str, known: Iterable[str], prefixes: tuple[str, ...] = ()) -> str:
    """The separator of a CSV file, from its header line: the one that splits it into the
    most columns the import knows (a comma when none does better).

    >>> detect_delimiter("code;name;level", ["code", "name", "level"])
    ';'
    >>> detect_delimiter("code,name", ["code", "name"]), detect_delimiter("", ["code"])
    (',', ',')
    >>> detect_delimiter("code\\tname_qu", ["code"], ("name_",))
    '\\t'
    """
    known = set(known)

    def score(delimiter: str) -> int:
        try:
            cells = next(csv.reader([header], delimiter=delimiter), [])
        except csv.Error:
            return 0
        return sum(1 for c in cells if c in known or (prefixes and c.startswith(prefixes)))

    best = max(DELIMITERS, key=lambda d: (score(d), d == ","))
    return best if score(best) > 0 else ","


def _separator_hint(header: str) -> str:
    """Why the header's columns were not found, when it is split by another separator."""
    counts = {d: header.count(d) for d in DELIMITERS}
    used = max(counts, key=counts.get)
    if used != "," and counts[used] > counts[","]:
        return (f" (the header is separated by {_NAMES[used]}; write the column names "
                "shown, separated by commas or semicolons)")
    return ""


def translated_names(row: dict[str, str], prefix: str = "name_") -> dict[str, str]:
    return {k[len(prefix):]: v for k, v in row.items() if k.startswith(prefix) and v}


# A text cell a spreadsheet would run as a formula starts with one of these (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value):
    """A value for a CSV people open in a spreadsheet: a text starting with =, +, -, @ or a
    control character (a centre named "=HYPERLINK(…)") gets a ' before it, so it is shown,
    never run. Numbers pass as they are.

    >>> spreadsheet_cell("=1+2"), spreadsheet_cell("Lima"), spreadsheet_cell(-3)
    ("'=1+2", 'Lima', -3)
    """
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value
