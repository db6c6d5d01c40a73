"""`cowin-kit plugins new id-provider NAME`: a working plugin package to start from."""
from __future__ import annotations

import re
from pathlib import Path


class ScaffoldError(ValueError):
    pass


def _names(name: str) -> tuple[str, str, str]:
    """distribution name, import package, class name for NAME (e.g. "ke-national-id")."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug or not slug[0].isalpha():
        raise ScaffoldError(f"{name!r} is not a usable name; use letters, digits and hyphens, "
                            "starting with a letter (e.g. ke-national-id)")
    package = "cowin_" + slug.replace("-", "_")
    cls = "".join(part.capitalize() for part in slug.split("-"))
    return f"cowin-kit-{slug}", package, cls


CODE_RE = re.compile(r"^[a-z][a-z0-9]*(?:[.-][a-z0-9]+)*$")


def scaffold_id_provider(name: str, target: Path) -> list[Path]:
    code = name.lower().replace("_", "-")
    if not CODE_RE.match(code):
        raise ScaffoldError(f"{name!r} is not a usable provider code; use lower-case letters, "
                            "digits, '.' and '-', e.g. ke.national-id")
    dist, package, cls = _names(name)
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(f"{target} exists and is not empty; nothing was written")
    files = {
        "pyproject.toml": f'''[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "cowin-kit ID provider: {code}"
requires-python = ">=3.11"
dependencies = ["cowin-kit"]

[project.optional-dependencies]
test = ["cowin-kit[plugin-test]"]

# The entry-point name is the provider code that country profiles refer to.
[project.entry-points."cowin_kit.id_providers"]
"{code}" = "{package}.provider:{cls}"
''',
        f"{package}/__init__.py": f'"""cowin-kit ID provider {code}."""\n',
        f"{package}/provider.py": f'''"""The {code} ID provider. Replace the TODOs with the document's published rules."""
from __future__ import annotations

from cowin_kit.toolkit import N_, RegexProvider


class {cls}(RegexProvider):
    """TODO: name the document and the SOURCE of its rules (law, agency, specification).

    >>> p = {cls}()
    >>> p.validate("1234-5678")
    '12345678'
    >>> p.validate("12")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    """

    code = "{code}"
    country = ""  # TODO: ISO 3166-1 alpha-2 code of the issuing country
    name = N_("TODO: the document's name")
    hint = N_("TODO: how people find and type the number")
    example = "12345678"  # TODO: a valid number
    lengths = (8,)  # TODO: allowed lengths after removing spaces and hyphens
    pattern = r"[0-9]+"  # TODO: the full layout
    checksum = None  # TODO: a function number -> bool, if the document has a check digit
''',
        "tests/test_provider.py": f'''"""Runs cowin-kit's contract tests against this provider: `pytest`."""
from cowin_kit.testing.contract import IdProviderContract

from {package}.provider import {cls}


class TestContract(IdProviderContract):
    provider_class = {cls}
    valid = ["12345678", "8765 4321"]  # TODO: real valid numbers
    invalid = ["1234", "ABCDEFGH"]  # TODO: numbers breaking each rule
''',
        "README.md": f'''# {dist}

A [cowin-kit](https://pypi.org/project/cowin-kit/) ID provider for `{code}`.

```sh
pip install -e '.[test]'
pytest --doctest-modules {package} tests     # contract tests and doctests
cowin-kit plugins list                       # shows {code}
```

Point a country profile's ID document at it with `provider = "{code}"`, or set
`COWIN_KIT_ID_PROVIDER_MAP=<document>={code}`. See cowin-kit's docs/plugins/.
''',
    }
    written = []
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
