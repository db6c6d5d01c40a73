"""Loading vaccination programmes from a country profile."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowin_kit.certificates import valuesets
from cowin_kit.profiles import Profile
from cowin_kit.programmes.models import DoseRule, EligibilityPhase, Product, Programme


def load_profile_programmes(session: Session, profile: Profile) -> int:
    """Create the profile's programmes, products, dose rules and phases that are missing.

    Existing rows are left as they are: an operator may have changed them since.
    Returns how many rows were created.
    """
    created = 0
    for spec in profile["programmes"]:
        programme = session.scalar(select(Programme).where(Programme.code == spec["code"]))
        if programme is None:
            programme = Programme(code=spec["code"], disease=spec["disease"], name=spec["name"],
                                  names=spec["names"],
                                  allow_mixed_products=spec["allow_mixed_products"],
                                  mixed_boosters=spec["mixed_boosters"],
                                  age_from=spec["age_from"])
            session.add(programme)
            created += 1
        have_products = {p.code for p in programme.products}
        for p in spec["products"]:
            if p["code"] in have_products:
                continue
            product = product_from_profile(p)
            programme.products.append(product)
            created += 1 + len(product.doses)
        have_phases = {ph.code for ph in programme.phases}
        for order, ph in enumerate(spec["phases"]):
            if ph["code"] in have_phases:
                continue
            programme.phases.append(EligibilityPhase(
                code=ph["code"], name=ph["name"], names=ph["names"], sort_order=order,
                starts_on=ph["starts_on"], min_age_years=ph["min_age_years"],
                groups=ph["groups"]))
            created += 1
    session.flush()
    return created


def product_from_profile(p: dict) -> Product:
    """A new product row (with its dose rules) from a profile's product table. Its EU DCC
    vaccine type and manufacturer, CVX and ICD-11 codes: the profile's, else those
    cowin_kit.certificates.valuesets knows for its dcc_product."""
    codes = valuesets.facts(p["dcc_product"])
    product = Product(code=p["code"], name=p["name"], manufacturer=p["manufacturer"],
                      dcc_product=p["dcc_product"],
                      dcc_vaccine_type=p["dcc_vaccine_type"] or (codes and codes.vp),
                      dcc_manufacturer=p["dcc_manufacturer"] or (codes and codes.ma),
                      cvx=p["cvx"] or (codes and codes.cvx),
                      icd11=p["icd11"] or (codes and codes.icd11),
                      min_age_years=p["min_age_years"], max_age_years=p["max_age_years"],
                      min_age=p["min_age"], max_age=p["max_age"],
                      primary_doses=p["primary_doses"])
    product.doses = [DoseRule(dose_number=d["number"], is_booster=d["booster"],
                              min_interval_days=d["min_interval_days"],
                              max_interval_days=d["max_interval_days"],
                              min_interval=d["min_interval"], max_interval=d["max_interval"],
                              max_interval_hard=d["max_interval_hard"], min_age=d["min_age"])
                     for d in p["doses"]]
    return product
