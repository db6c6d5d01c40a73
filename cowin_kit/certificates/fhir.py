"""FHIR R4 bundles of a person's doses: the SMART Health Card's (``shc_bundle``) and WHO
DDCC:VS's (``ddcc_bundle``), from the ORM rows (a person, their doses with ``product``,
``lot`` and ``facility``, and the certificate row). Plain functions: nothing is queried
but the rows' relationships.

SMART Health Card (the SMART Health Cards Vaccination and Testing IG, "data minimization"
profiles): a Patient and an Immunization per dose, with only what a verifier needs, since
the card must fit one QR code: no ids, no ``protocolApplied`` (the IG forbids it), the
vaccine as a CDC CVX code, the lot, and the centre as ``performer.actor.display``. The
name: we keep one ``name`` per person, so it goes whole in ``text`` (FHIR's full name, which
the IG accepts) and in ``family`` for verifiers that show only family and given names.

DDCC:VS (WHO's Digital Documentation of COVID-19 Certificates, Vaccination Status,
http://smart.who.int/ddcc): a ``document`` Bundle of a DDCCVSComposition (LOINC 82593-5,
the certificate identifier = the UVCI, attested by the issuer), the DDCCPatient, the
issuer's DDCCOrganization and a DDCCImmunization per dose (ICD-11 vaccine type, brand,
market-authorisation holder, country, centre, lot, dose number and series). The IG's
document states one vaccination event (the section's ``focus``); ours is the person's own
record, so every dose of the programme is an entry of the section and the focus is the
newest. For a programme other than COVID-19 the bundle has the same shape, without the
DDCC profile claims or the COVID-19 codes.
"""
from __future__ import annotations

import uuid

from cowin_kit.certificates import dcc, valuesets
from cowin_kit.certificates.dcc import birth_date  # a FHIR date too: the day, else the year

CVX = "http://hl7.org/fhir/sid/cvx"
ICD11 = "http://id.who.int/icd11/mms"
LOINC = "http://loinc.org"
DDCC = "http://smart.who.int/ddcc"
DDCC_PROFILE = DDCC + "/StructureDefinition/"
ICD11_COVID19 = "RA01"
MAX_DISPLAY = 100  # keeps a centre's long name from crowding the QR code
GENDERS = {"male": "male", "female": "female", "other": "other"}


def place(dose, issuer: str = "") -> str:
    """The centre that gave ``dose`` (the issuer when it is not known)."""
    facility = getattr(dose, "facility", None)
    return ((facility.name if facility is not None else "") or issuer).strip()[:MAX_DISPLAY]


def _lot(dose) -> str | None:
    return dose.lot.lot_number if dose.lot is not None else None


def _shc_vaccine(product) -> dict:
    code = valuesets.cvx(product)
    if code:
        return {"coding": [{"system": CVX, "code": code}]}
    icd = valuesets.icd11(product)
    if icd:
        return {"coding": [{"system": ICD11, "code": icd}]}
    return {"text": product.name}


def shc_bundle(person, doses: list, *, issuer: str = "") -> dict:
    """The bundle a SMART Health Card carries: the Patient, and an Immunization per dose."""
    patient = {"resourceType": "Patient",
               "name": [{"family": person.name, "text": person.name}],
               "birthDate": birth_date(person)}
    entries = [{"fullUrl": "resource:0", "resource": patient}]
    for i, dose in enumerate(doses, start=1):
        immunization = {
            "resourceType": "Immunization", "status": "completed",
            "vaccineCode": _shc_vaccine(dose.product),
            "patient": {"reference": "resource:0"},
            "occurrenceDateTime": dose.given_on.isoformat(),
        }
        lot = _lot(dose)
        if lot:
            immunization["lotNumber"] = lot
        performer = place(dose, issuer)
        if performer:
            immunization["performer"] = [{"actor": {"display": performer}}]
        entries.append({"fullUrl": f"resource:{i}", "resource": immunization})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


# --- WHO DDCC:VS ---------------------------------------------------------------------------

def _alpha3(country: str) -> str:
    import pycountry
    found = pycountry.countries.get(alpha_2=country.upper())
    return found.alpha_3 if found else country.upper()


def _urn(uvci: str, part: str) -> str:
    """A stable ``urn:uuid`` for one resource of the certificate's document."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{uvci}/{part}')}"


def _meta(profile: str, covid: bool) -> dict:
    return {"meta": {"profile": [DDCC_PROFILE + profile]}} if covid else {}


def _brand(product) -> dict:
    brand = valuesets.icd11_brand(product)
    if brand:
        return {"system": ICD11, "code": brand, "display": product.name}
    if valuesets.is_product(product.dcc_product):
        mp = product.dcc_product
        return {"system": valuesets.system("vaccine-medicinal-product", mp), "code": mp,
                "display": valuesets.display("vaccine-medicinal-product", mp)}
    return {"display": product.name}


def _ddcc_immunization(dose, *, programme, covid: bool, country: str, issuer: str,
                       urls: dict, series: int) -> dict:
    product = dose.product
    extensions = [{"url": DDCC_PROFILE + "DDCCEventBrand", "valueCoding": _brand(product)}]
    holder = valuesets.manufacturer(product) if covid else None
    if holder and valuesets.is_manufacturer(holder):
        extensions.append({"url": DDCC_PROFILE + "DDCCVaccineMarketAuthorization",
                           "valueCoding": {
                               "system": valuesets.system("vaccine-mah-manf", holder),
                               "code": holder,
                               "display": valuesets.display("vaccine-mah-manf", holder)}})
    extensions.append({"url": DDCC_PROFILE + "DDCCCountryOfEvent", "valueCode": country})
    code = valuesets.icd11(product)
    vaccine = {"text": product.name}
    if code:
        vaccine["coding"] = [{"system": ICD11, "code": code}]
    disease = ({"coding": [{"system": ICD11, "code": ICD11_COVID19, "display": "COVID-19"}]}
               if covid else {"text": programme.disease})
    immunization = {
        "resourceType": "Immunization", **_meta("DDCCImmunization", covid),
        "extension": extensions,
        "status": "completed",
        "vaccineCode": vaccine,
        "patient": {"reference": urls["patient"]},
        "occurrenceDateTime": (dose.given_at.isoformat() if dose.given_at
                               else dose.given_on.isoformat()),
        "location": {"display": place(dose, issuer)},
        "manufacturer": {"display": product.manufacturer},
        "performer": [{"actor": {"reference": urls["issuer"]}}],
        "protocolApplied": [{
            "authority": {"reference": urls["issuer"]},
            "targetDisease": [disease],
            "doseNumberPositiveInt": dose.dose_number,
            "seriesDosesPositiveInt": series,
        }],
    }
    lot = _lot(dose)
    if lot:
        immunization["lotNumber"] = lot
    return immunization


def ddcc_bundle(person, doses: list, certificate, *, issuer: str, country: str,
                issuer_url: str | None = None, next_dose_due=None) -> dict:
    """The WHO DDCC:VS document of ``certificate`` (a certificates.models.Certificate row):
    ``person``'s ``doses`` of its programme, first dose first, as issued by ``issuer`` in
    ``country`` (ISO 3166-1 alpha-2). ``next_dose_due`` (a date) adds the
    DDCCImmunizationRecommendation of the next dose."""
    from cowin_kit.certificates.dcc import is_covid

    uvci = certificate.uvci
    programme = certificate.programme
    covid = is_covid(programme)
    alpha3 = _alpha3(country)
    urls = {"composition": _urn(uvci, "composition"), "patient": _urn(uvci, "patient"),
            "issuer": _urn(uvci, "issuer")}
    dose_urls = [_urn(uvci, f"dose/{d.dose_number}") for d in doses]
    issued = certificate.issued_at.isoformat()

    patient = {"resourceType": "Patient", **_meta("DDCCPatient", covid),
               "name": [{"use": "official", "text": person.name}],
               "gender": GENDERS.get((person.gender or "").lower(), "unknown"),
               "birthDate": birth_date(person)}
    organization = {"resourceType": "Organization", **_meta("DDCCOrganization", covid),
                    "name": issuer, "address": [{"country": alpha3}]}
    if issuer_url:
        organization["telecom"] = [{"system": "url", "value": issuer_url}]
    composition = {
        "resourceType": "Composition", **_meta("DDCCVSComposition", covid),
        "identifier": {"system": "urn:ietf:rfc:3986", "value": uvci},
        "status": "final",
        "type": {"coding": [{"system": LOINC, "code": "82593-5",
                             "display": "Immunization summary report"}]},
        "category": [{"coding": [{
            "system": DDCC + "/CodeSystem/DDCC-Composition-Category-CodeSystem",
            "code": "ddcc-vs"}]}],
        "subject": {"reference": urls["patient"]},
        "date": issued,
        "author": [{"reference": urls["issuer"]}],
        "title": ("Digital Documentation of COVID-19 Certificate (DDCC)" if covid
                  else f"Vaccination record: {programme.name}"),
        "attester": [{"mode": "official", "party": {"reference": urls["issuer"]}}],
        "event": [{"period": {"start": issued,
                              "end": certificate.expires_at.isoformat()}}],
        "section": [{
            "code": {"coding": [{"system": LOINC, "code": "11369-6",
                                 "display": "History of Immunization Narrative"}]},
            "focus": {"reference": dose_urls[-1]},
            "entry": [{"reference": url} for url in dose_urls],
        }],
    }
    entries = [{"fullUrl": urls["composition"], "resource": composition},
               {"fullUrl": urls["patient"], "resource": patient},
               {"fullUrl": urls["issuer"], "resource": organization}]
    for dose, url in zip(doses, dose_urls, strict=True):
        entries.append({"fullUrl": url, "resource": _ddcc_immunization(
            dose, programme=programme, covid=covid, country=alpha3, issuer=issuer, urls=urls,
            series=dcc.series_doses(dose))})
    if next_dose_due is not None:
        recommendation_url = _urn(uvci, "next-dose")
        composition["section"][0]["entry"].append({"reference": recommendation_url})
        entries.append({"fullUrl": recommendation_url, "resource": {
            "resourceType": "ImmunizationRecommendation",
            **_meta("DDCCImmunizationRecommendation", covid),
            "patient": {"reference": urls["patient"]},
            "date": issued,
            "recommendation": [{
                "vaccineCode": [entries[-1]["resource"]["vaccineCode"]],
                "forecastStatus": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/"
                              "immunization-recommendation-status", "code": "due"}]},
                "dateCriterion": [{"code": {"coding": [{"system": LOINC, "code": "30980-7",
                                                        "display": "Date vaccine due"}]},
                                   "value": next_dose_due.isoformat()}],
                "supportingImmunization": [{"reference": dose_urls[-1]}],
            }],
        }})
    return {"resourceType": "Bundle",
            "identifier": {"system": "urn:ietf:rfc:3986", "value": uvci},
            "type": "document", "timestamp": issued,
            "link": [{"relation": "publication", "url": uvci}],
            "entry": entries}

