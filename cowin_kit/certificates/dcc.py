"""The EU DCC certificate (schema 1.3) of a person's doses of a COVID-19 programme.

One ``v`` entry, for the latest dose: ``dn`` its number, ``sd`` the doses of the series
(the primary series, or ``dn`` for a booster, as the eHealth Network's guidance encodes
boosters: 3/3 after a two-dose series). The value-set codes of the product come from the
product row (``dcc_product``, ``dcc_vaccine_type``, ``dcc_manufacturer``), else from
``valuesets``' table for ``dcc_product``; a product without both codes has no EU DCC.

Names: we keep one ``name`` per person, not surname and given names apart (many of the
countries we serve do not split names the European way), so the whole name goes in ``fn``
and its ICAO 9303 transliteration in ``fnt``, the only name field the schema requires;
``gn``/``gnt`` are left out rather than guessed.

The EU DCC covers COVID-19 only: a routine programme's doses (measles, polio…) get no HC1,
only a SMART Health Card and a DDCC:VS (see ``issuing``).
"""
from __future__ import annotations

from cowin_kit.certificates import names, valuesets

SCHEMA_VERSION = "1.3.0"
COVID19 = valuesets.COVID19  # SNOMED CT: the disease agent targeted (disease-agent-targeted)
MAX_TEXT = 80  # the schema's limit for fn, is and ci


def is_covid(programme) -> bool:
    return (programme.disease or "").strip().upper().replace(" ", "").replace(
        "-", "") == "COVID19"


def covers(programme, product) -> bool:
    """Whether the EU DCC can state this dose: a COVID-19 programme's product with an EU
    value-set product code, vaccine type and manufacturer."""
    return (is_covid(programme) and valuesets.is_product(product.dcc_product)
            and bool(valuesets.vaccine_type(product)) and bool(valuesets.manufacturer(product)))


def series_doses(dose) -> int:
    """The doses of the series ``dose`` belongs to: the primary series, or the dose's own
    number for a booster (the eHealth Network's encoding: 3/3 after a two-dose series)."""
    return max(dose.product.primary_doses, dose.dose_number)


def birth_date(person) -> str:
    """``dob``: the date of birth when known, else the year (the schema allows both); empty
    outside the years 1900–2099 the schema accepts."""
    born = person.birth_date.isoformat() if person.birth_date else f"{person.birth_year:04d}"
    return born if 1900 <= int(born[:4]) <= 2099 else ""


def _clip(text: str) -> str:
    return text.strip()[:MAX_TEXT].rstrip()


def certificate(person, doses: list, *, country: str, issuer: str, uvci: str,
                language: str | None = None) -> dict:
    """The DCC JSON of ``person``'s ``doses`` (first dose first, with their products).
    ``language`` chooses the national variant of ICAO's Cyrillic table (e.g. ``"uk"``)."""
    last = doses[-1]
    product = last.product
    return {
        "ver": SCHEMA_VERSION,
        "nam": {"fn": _clip(person.name), "fnt": names.icao(person.name, language)},
        "dob": birth_date(person),
        "v": [{
            "tg": COVID19,
            "vp": valuesets.vaccine_type(product),
            "mp": product.dcc_product,
            "ma": valuesets.manufacturer(product),
            "dn": last.dose_number,
            "sd": series_doses(last),
            "dt": last.given_on.isoformat(),
            "co": country.upper(),
            "is": _clip(issuer),
            "ci": uvci,
        }],
    }
