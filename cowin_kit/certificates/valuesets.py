"""The codes a certificate states a vaccine with, per EU DCC medicinal product (``mp``).

The EU value sets (``data/valuesets/``, read once per process) list the products, vaccine
types and marketing-authorisation holders; they do not say which type and holder go with
which product, nor the codes the other formats use. ``PRODUCTS`` does, for every product of
the value set:

- ``vp``: the vaccine type (``vaccine-prophylaxis``). The specific SNOMED CT codes the value
  set added in 2022-2023 (viral vector 29061000087103, inactivated 1157024006, recombinant
  spike protein 1162643001, virus-like particle 30141000087107) rather than the deprecated
  ATC code J07BX03; WHO's DDCC maps its ICD-11 vaccine types to these same codes.
- ``ma``: the marketing-authorisation holder, else the manufacturer (``vaccine-mah-manf``),
  never free text.
- ``cvx``: the CDC CVX code a SMART Health Card names the vaccine with (the SMART IG asks for
  CVX); 500 ("COVID-19 non-US vaccine, product unknown") where CVX has none of its own.
- ``icd11``, ``icd11_brand``: WHO's ICD-11 codes for the vaccine type and the brand, as the
  DDCC:VS states them (http://id.who.int/icd11/mms); the brand is None where ICD-11 has none.

A profile may state ``dcc_vaccine_type`` and ``dcc_manufacturer`` (and ``cvx``, ``icd11``) for
a product; they are checked against the value sets when the profile is loaded.

>>> facts("EU/1/20/1528").ma, facts("Covishield").vp, facts("Covaxin").cvx
('ORG-100030215', '29061000087103', '502')
>>> is_product("Covishield"), is_product("Corbevax"), is_manufacturer("Bharat-Biotech")
(True, False, True)
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).with_name("data") / "valuesets"
COVID19 = "840539006"  # SNOMED CT, disease-agent-targeted

MRNA, VECTOR, INACTIVATED = "1119349007", "29061000087103", "1157024006"
PROTEIN, ANTIGEN, VLP = "1162643001", "1119305005", "30141000087107"
ICD11_TYPE = {MRNA: "XM0GQ8", VECTOR: "XM9QW8", INACTIVATED: "XM1NL1", PROTEIN: "XM5JC5",
              ANTIGEN: "XM5JC5", VLP: "XM1J92"}
ICD11_COVID19_VACCINE = "XM68M6"  # "COVID-19 vaccines", when the type is unknown


@dataclass(frozen=True)
class Product:
    vp: str
    ma: str
    cvx: str
    icd11_brand: str | None = None

    @property
    def icd11(self) -> str:
        return ICD11_TYPE.get(self.vp, ICD11_COVID19_VACCINE)


# mp -> vaccine type, holder/manufacturer, CVX, ICD-11 brand.
PRODUCTS: dict[str, Product] = {
    "EU/1/20/1528": Product(MRNA, "ORG-100030215", "208", "XM8NQ0"),  # Comirnaty
    "EU/1/20/1507": Product(MRNA, "ORG-100031184", "207", "XM3DT5"),  # Spikevax
    "EU/1/21/1529": Product(VECTOR, "ORG-100001699", "210", "XM4YL8"),  # Vaxzevria
    "EU/1/20/1525": Product(VECTOR, "ORG-100001417", "212", "XM6QV1"),  # Jcovden
    "EU/1/21/1618": Product(PROTEIN, "ORG-100032020", "211", "XM9T65"),  # Nuvaxovid
    "EU/1/21/1624": Product(INACTIVATED, "ORG-100036422", "518"),  # Valneva
    "EU/1/21/1580": Product(PROTEIN, "ORG-100000788", "500"),  # VidPrevtyn Beta
    "EU/1/22/1709": Product(PROTEIN, "ORG-100036914", "500"),  # Bimervax
    "CVnCoV": Product(MRNA, "ORG-100006270", "500"),
    "NVX-CoV2373": Product(PROTEIN, "ORG-100032020", "211", "XM9T65"),
    "Sputnik-V": Product(VECTOR, "Gamaleya-Research-Institute", "505", "XM5ZJ4"),
    "Sputnik-Light": Product(VECTOR, "Gamaleya-Research-Institute", "504", "XM5QM6"),
    "Sputnik-M": Product(VECTOR, "Gamaleya-Research-Institute", "500"),
    "R-COVI": Product(VECTOR, "ORG-100007893", "505", "XM5ZJ4"),  # Sputnik V by R-Pharm
    "Convidecia": Product(VECTOR, "ORG-100013793", "506", "XM1AG7"),
    "Covishield": Product(VECTOR, "ORG-100001981", "210", "XM97T2"),
    "Covid-19-recombinant": Product(VECTOR, "Fiocruz", "210", "XM4YL8"),  # AZ by Fiocruz
    "AZD2816": Product(VECTOR, "ORG-100001699", "500"),
    "EpiVacCorona": Product(ANTIGEN, "Vector-Institute", "509", "XM6SZ8"),
    "EpiVacCorona-N": Product(ANTIGEN, "Vector-Institute", "500", "XM3SK8"),
    "BBIBP-CorV": Product(INACTIVATED, "ORG-100020693", "510", "XM8866"),
    "Inactivated-SARS-CoV-2-Vero-Cell": Product(INACTIVATED, "ORG-100020693", "510", "XM8866"),
    "Hayat-Vax": Product(INACTIVATED, "ORG-100023050", "510", "XM9FQ7"),  # BBIBP by Julphar
    "WIBP-CorV": Product(INACTIVATED, "Sinopharm-WIBP", "500", "XM1AU2"),
    "CoronaVac": Product(INACTIVATED, "Sinovac-Biotech", "511", "XM7HT3"),
    "Covid-19-adsorvida-inativada": Product(INACTIVATED, "Instituto-Butantan", "511",
                                            "XM7HT3"),  # CoronaVac by Butantan
    "Covaxin": Product(INACTIVATED, "Bharat-Biotech", "502", "XM1G90"),
    "CoviVac": Product(INACTIVATED, "Chumakov-Federal-Scientific-Center", "503", "XM85P5"),
    "VLA2001": Product(INACTIVATED, "ORG-100036422", "518"),
    "Covovax": Product(PROTEIN, "ORG-100001981", "211", "XM9T65"),  # Novavax by SII
    "Vidprevtyn": Product(PROTEIN, "ORG-100000788", "500"),
    "Abdala": Product(PROTEIN, "CIGB", "500"),
    "Soberana-02": Product(PROTEIN, "Finlay-Institute", "500", "XM3PG0"),
    "Soberana-Plus": Product(PROTEIN, "Finlay-Institute", "500", "XM0RV9"),
    "MVC-COV1901": Product(PROTEIN, "ORG-100033914", "515", "XM4EC8"),
    "NVSI-06-08": Product(PROTEIN, "NVSI", "500"),
    "YS-SC2-010": Product(PROTEIN, "Yisheng-Biopharma", "500"),
    "SCTV01C": Product(PROTEIN, "ORG-100026614", "500"),
    "Covifenz": Product(VLP, "ORG-100008549", "512"),
}


@cache
def value_set(name: str) -> dict:
    """One EU value set's entries (code -> {display, active, system, …}), read once."""
    with open(FOLDER / f"{name}.json", encoding="utf-8") as f:
        return json.load(f)["valueSetValues"]


def is_product(code: str | None) -> bool:
    return bool(code) and code in value_set("vaccine-medicinal-product")


def is_vaccine_type(code: str | None) -> bool:
    entry = value_set("vaccine-prophylaxis").get(code or "")
    return bool(entry and entry.get("active"))


def is_manufacturer(code: str | None) -> bool:
    return bool(code) and code in value_set("vaccine-mah-manf")


def facts(mp: str | None) -> Product | None:
    """The codes of EU product ``mp`` (None for a product the table does not know)."""
    return PRODUCTS.get(mp or "")


def display(name: str, code: str) -> str:
    """The value set's name for ``code`` (the code itself when unknown)."""
    return value_set(name).get(code, {}).get("display", code)


def system(name: str, code: str) -> str | None:
    return value_set(name).get(code, {}).get("system")


def vaccine_type(product) -> str | None:
    """A product row's ``vp``: the profile's, else the table's."""
    known = facts(product.dcc_product)
    return product.dcc_vaccine_type or (known.vp if known else None)


def manufacturer(product) -> str | None:
    """A product row's ``ma``: the profile's, else the table's (never free text)."""
    known = facts(product.dcc_product)
    return product.dcc_manufacturer or (known.ma if known else None)


def cvx(product) -> str | None:
    known = facts(product.dcc_product)
    return getattr(product, "cvx", None) or (known.cvx if known else None)


def icd11(product) -> str | None:
    known = facts(product.dcc_product)
    return getattr(product, "icd11", None) or (known.icd11 if known else None)


def icd11_brand(product) -> str | None:
    known = facts(product.dcc_product)
    return known.icd11_brand if known else None


def example_products(limit: int = 4) -> str:
    """A few product codes, for error messages."""
    return ", ".join(list(PRODUCTS)[:limit])
