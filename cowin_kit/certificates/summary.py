"""What a verifier is shown of a checked certificate: the holder's name and date of birth,
the doses, the issuing country and the certificate's identifier, read from the payload of an
EU DCC (HC1) or a SMART Health Card, whichever form the verifier returns it in.

Pure functions on plain data: the verify page's no-JavaScript answer uses them (the page's
script reads the same fields in the browser).

>>> s = summarise({"nam": {"fn": "Quispe", "gn": "Ana"}, "dob": "1980-01-02",
...                "v": [{"dn": 1, "sd": 2, "mp": "EU/1/20/1528", "dt": "2026-01-05",
...                       "co": "PE", "is": "Minsa", "ci": "URN:UVCI:01:PE:X#Y"}]})
>>> (s.name, s.birth_date, s.country, s.certificate_id, s.doses[0].number)
('Quispe, Ana', '1980-01-02', 'PE', 'URN:UVCI:01:PE:X#Y', 1)
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Dose:
    number: int | None
    series: int | None
    product: str
    date: str
    country: str = ""
    issuer: str = ""


@dataclass(frozen=True)
class Summary:
    kind: str  # "vaccination", "test", "recovery", or "record" (a SMART Health Card)
    name: str
    birth_date: str
    doses: list[Dose] = field(default_factory=list)
    country: str = ""
    issuer: str = ""
    certificate_id: str = ""


def _dcc(payload) -> dict | None:
    """The EU DCC JSON in ``payload``: itself, or inside the CWT claims (-260/1)."""
    if not isinstance(payload, dict):
        return None
    if "nam" in payload or "v" in payload:
        return payload
    for key in (-260, "-260", "hcert"):
        inner = payload.get(key)
        if isinstance(inner, dict):
            found = inner.get(1, inner.get("1", inner))
            if isinstance(found, dict) and ("nam" in found or "v" in found):
                return found
    for key in ("dcc", "certificate", "payload"):
        if isinstance(payload.get(key), dict):
            return _dcc(payload[key])
    return None


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _number(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _from_dcc(dcc: dict, products: dict[str, str]) -> Summary:
    nam = dcc.get("nam") if isinstance(dcc.get("nam"), dict) else {}
    family = _text(nam.get("fn")) or _text(nam.get("fnt"))
    given = _text(nam.get("gn")) or _text(nam.get("gnt"))
    name = f"{family}, {given}" if family and given else family or given
    kind, entries = "vaccination", dcc.get("v")
    if not entries:
        kind, entries = ("test", dcc.get("t")) if dcc.get("t") else ("recovery", dcc.get("r"))
    entries = [e for e in entries or [] if isinstance(e, dict)]
    doses = [Dose(_number(e.get("dn")), _number(e.get("sd")),
                  products.get(_text(e.get("mp")), _text(e.get("mp"))),
                  _text(e.get("dt")), _text(e.get("co")), _text(e.get("is")))
             for e in entries if kind == "vaccination"]
    first = entries[0] if entries else {}
    return Summary(kind, name, _text(dcc.get("dob")), doses, _text(first.get("co")),
                   _text(first.get("is")), _text(first.get("ci")))


def _patient_name(patient: dict) -> str:
    for name in patient.get("name") or []:
        if not isinstance(name, dict):
            continue
        if _text(name.get("text")):
            return _text(name["text"])
        given = " ".join(_text(g) for g in name.get("given") or [] if _text(g))
        family = _text(name.get("family"))
        if family or given:
            return f"{family}, {given}" if family and given else family or given
    return ""


def _from_card(payload: dict) -> Summary | None:
    vc = payload.get("vc") if isinstance(payload.get("vc"), dict) else {}
    subject = vc.get("credentialSubject") if isinstance(vc.get("credentialSubject"), dict) \
        else {}
    bundle = subject.get("fhirBundle") or (payload if payload.get("resourceType") == "Bundle"
                                            else None)
    if not isinstance(bundle, dict):
        return None
    resources = [e.get("resource") for e in bundle.get("entry") or []
                 if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    patient = next((r for r in resources if r.get("resourceType") == "Patient"), {})
    doses = []
    for r in resources:
        if r.get("resourceType") != "Immunization":
            continue
        code = r.get("vaccineCode") if isinstance(r.get("vaccineCode"), dict) else {}
        coding = next((c for c in code.get("coding") or [] if isinstance(c, dict)), {})
        applied = next((p for p in r.get("protocolApplied") or [] if isinstance(p, dict)), {})
        doses.append(Dose(_number(applied.get("doseNumberPositiveInt")),
                          _number(applied.get("seriesDosesPositiveInt")),
                          _text(code.get("text")) or _text(coding.get("code")),
                          _text(r.get("occurrenceDateTime"))[:10]))
    return Summary("record", _patient_name(patient), _text(patient.get("birthDate")), doses,
                   issuer=_text(payload.get("iss")))


def summarise(payload, products: dict[str, str] | None = None) -> Summary | None:
    """The summary of a certificate ``payload`` (None when it holds none): ``products``
    names EU DCC product codes (``mp``) for the reader."""
    dcc = _dcc(payload)
    if dcc is not None:
        return _from_dcc(dcc, products or {})
    if isinstance(payload, dict):
        return _from_card(payload)
    return None
