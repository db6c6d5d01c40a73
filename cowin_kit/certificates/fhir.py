"""FHIR R4 bundles of a person's doses: the SMART Health Card's (Patient and Immunization,
minimal as the specification asks) and WHO DDCC:VS's (``ddcc``)."""
from __future__ import annotations


def _patient(person) -> dict:
    born = person.birth_date.isoformat() if person.birth_date else f"{person.birth_year:04d}"
    return {"resourceType": "Patient", "name": [{"text": person.name}], "birthDate": born}


def shc_bundle(person, doses: list) -> dict:
    """The bundle a SMART Health Card carries: the Patient, and an Immunization per dose."""
    entries = [{"fullUrl": "resource:0", "resource": _patient(person)}]
    for i, dose in enumerate(doses, start=1):
        immunization = {
            "resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [{"system": "https://cowin-kit.org/product",
                                        "code": dose.product.code}],
                            "text": dose.product.name},
            "patient": {"reference": "resource:0"},
            "occurrenceDateTime": dose.given_on.isoformat(),
            "protocolApplied": [{"doseNumberPositiveInt": dose.dose_number}],
        }
        if dose.lot is not None:
            immunization["lotNumber"] = dose.lot.lot_number
        entries.append({"fullUrl": f"resource:{i}", "resource": immunization})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
