"""The EU DCC JSON schemas and value sets, shipped in ``data/`` (Apache-2.0, from the
eHealth Network's eu-dcc-schema and eu-dcc-valuesets repositories) and read once per
process: whether a certificate's JSON follows the schema of the version its ``ver`` names,
and whether its codes are in the value sets.

>>> schema_version("1.3.0"), schema_version("1.3.9"), schema_version("2.0.0")
((1, 3, 0), (1, 3, 3), (1, 3, 3))
>>> value_set("vaccine-medicinal-product")["EU/1/20/1528"]
'Comirnaty'
>>> schema_problem({"ver": "1.3.0", "nam": {"fnt": "X"}, "dob": "1980", "v": [{
...     "tg": "840539006", "vp": "J07BX03", "mp": "EU/1/20/1528", "ma": "Pfizer", "dn": 1,
...     "sd": 2, "dt": "2021-05-01", "co": "PE", "is": "Minsa", "ci": "URN:UVCI:01:PE:X"}]})
'value_set'
"""
from __future__ import annotations

import functools
import json
from importlib import resources


@functools.lru_cache(maxsize=1)
def _schema_files() -> dict[tuple[int, ...], str]:
    """Schema version -> file name in data/schema."""
    folder = resources.files("cowin_kit.certificates") / "data" / "schema"
    out = {}
    for entry in folder.iterdir():
        version, _, rest = entry.name.partition("-")
        if rest.endswith(".json"):
            out[tuple(int(p) for p in version.split("."))] = entry.name
    return out


def schema_version(ver) -> tuple[int, ...]:
    """The shipped schema version for a certificate's ``ver``: the same version, else the
    newest of its major.minor, else the newest."""
    files = _schema_files()
    try:
        wanted = tuple(int(p) for p in str(ver).split("."))
    except ValueError:
        wanted = ()
    if wanted in files:
        return wanted
    same = [v for v in files if v[:2] == wanted[:2]]
    return max(same or files)


@functools.lru_cache(maxsize=16)
def _validator(version: tuple[int, ...]):
    import jsonschema

    folder = resources.files("cowin_kit.certificates") / "data" / "schema"
    schema = json.loads((folder / _schema_files()[version]).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(_inline(schema, schema.get("$defs", {})))


def _inline(node, defs: dict, depth: int = 0):
    """``node`` with each ``{"$ref": "#/$defs/NAME"}`` replaced by the definition (the DCC
    schemas' references are not recursive): validating then costs half as much, without
    resolving references."""
    if depth > 32:
        raise ValueError("the schema's references nest too deeply")
    if isinstance(node, list):
        return [_inline(item, defs, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in defs:
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return _inline({**defs[ref[8:]], **rest}, defs, depth + 1)
    return {k: _inline(v, defs, depth + 1) for k, v in node.items() if k != "$defs"}


# The coded fields of each certificate type and the EU value set their codes come from
# (the schemas only annotate them, and older versions not all of them). The value sets of
# tests (type, result, device) are not shipped: those codes are not checked.
VALUE_SETS = {
    "v": {"tg": "disease-agent-targeted", "vp": "vaccine-prophylaxis",
          "mp": "vaccine-medicinal-product", "ma": "vaccine-mah-manf", "co": "country-2-codes"},
    "t": {"tg": "disease-agent-targeted", "co": "country-2-codes"},
    "r": {"tg": "disease-agent-targeted", "co": "country-2-codes"},
}


def schema_problem(document: dict) -> str | None:
    """None when the DCC JSON ``document`` follows the schema of the version its ``ver``
    names (formats such as ``date`` are not asserted, as the EU's own test suite does not)
    and its codes are in the EU value sets; else "schema" or "value_set"."""
    if not isinstance(document.get("ver"), str):
        return "schema"
    if not _validator(schema_version(document["ver"])).is_valid(document):
        return "schema"
    for kind, fields in VALUE_SETS.items():
        for entry in document.get(kind) or ():
            for name, value_set_name in fields.items():
                code = entry.get(name)
                if code is not None and code not in value_set(value_set_name):
                    return "value_set"
    return None


@functools.lru_cache(maxsize=8)
def value_set(name: str) -> dict[str, str]:
    """An EU DCC value set (data/valuesets/<name>.json): code -> English display name."""
    from cowin_kit.certificates.valuesets import value_set as entries

    return {code: entry.get("display", code) for code, entry in entries(name).items()}
