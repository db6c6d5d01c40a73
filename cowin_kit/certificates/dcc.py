"""The EU DCC certificate (schema 1.3) of a person's doses of a COVID-19 programme.

One ``v`` entry, for the latest dose: ``dn`` its number, ``sd`` the doses of the series
(the primary series, or ``dn`` for a booster, as the eHealth Network's guidance encodes
boosters: 3/3 after a two-dose series). The value-set codes of the product come from the
product row (``dcc_product``, ``dcc_vaccine_type``, ``dcc_manufacturer``).
"""
from __future__ import annotations

from cowin_kit.certificates import names

SCHEMA_VERSION = "1.3.0"
COVID19 = "840539006"  # SNOMED CT: the disease agent targeted (disease-agent-targeted)
# The vaccine type when neither the profile nor the known products name one.
COVID19_VACCINES = "J07BX03"


def covers(programme, product) -> bool:
    """Whether the EU DCC can state this dose: a COVID-19 programme's product with an EU
    value-set product code."""
    return (programme.disease or "").strip().upper().replace(" ", "") in (
        "COVID-19", "COVID19") and bool(product.dcc_product)


def birth_date(person) -> str:
    """``dob``: the date of birth when known, else the year (the schema allows both)."""
    return person.birth_date.isoformat() if person.birth_date else f"{person.birth_year:04d}"


def certificate(person, doses: list, *, country: str, issuer: str, uvci: str) -> dict:
    """The DCC JSON of ``person``'s ``doses`` (first dose first, with their products)."""
    last = doses[-1]
    product = last.product
    series = max(product.primary_doses, last.dose_number)
    return {
        "ver": SCHEMA_VERSION,
        "nam": {"fn": person.name[:80], "fnt": names.icao(person.name)},
        "dob": birth_date(person),
        "v": [{
            "tg": COVID19,
            "vp": product.dcc_vaccine_type or COVID19_VACCINES,
            "mp": product.dcc_product,
            "ma": product.dcc_manufacturer or product.manufacturer[:80],
            "dn": last.dose_number,
            "sd": series,
            "dt": last.given_on.isoformat(),
            "co": country.upper(),
            "is": issuer[:80],
            "ci": uvci,
        }],
    }
