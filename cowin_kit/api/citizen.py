"""Co-WIN v2 endpoints for a logged-in citizen: family members, appointments, search.

Every query is scoped to the caller's account: another account's beneficiary or
appointment answers 404, exactly like one that does not exist.
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, g, jsonify, render_template, request
from flask_babel import force_locale, get_translations
from sqlalchemy import bindparam, func, select

from cowin_kit.api import captcha, public
from cowin_kit.api.auth import login_required
from cowin_kit.api.body import load_body, load_query
from cowin_kit.api.errors import ApiError, register
from cowin_kit.api.schemas import schedule_fast
from cowin_kit.documents import qr
from cowin_kit.i18n import ministry_name
from cowin_kit.programmes.groups import profile_groups
from cowin_kit.programmes.models import Programme
from cowin_kit.registration import service as registration
from cowin_kit.registration.choices import GENDER_BY_ID
from cowin_kit.registration.family import FamilyAppointment, family
from cowin_kit.registration.models import Beneficiary, IdDocumentType
from cowin_kit.runtime import db_session, deployment
from cowin_kit.scheduling import booking, slip, slots
from cowin_kit.scheduling.models import Appointment, AppointmentStatus
from cowin_kit.web.limits import client_key

bp = Blueprint("api_citizen", __name__, url_prefix="/api/v2")
register(bp)


def _local_now() -> dt.datetime:
    return deployment().now()


def _today() -> dt.date:
    return _local_now().date()


_OWN_BENEFICIARIES = select(Beneficiary).where(  # built once: every booking call runs it
    Beneficiary.reference_id.in_(bindparam("refs", expanding=True)),
    Beneficiary.account_id == bindparam("account_id"))


def _own_beneficiaries(refs: list[str]) -> list[Beneficiary]:
    """The caller's people of these reference ids (a list of texts, as the schemas load
    it), or 404 when one is not the caller's."""
    found = {b.reference_id: b for b in db_session().scalars(
        _OWN_BENEFICIARIES, {"refs": refs, "account_id": g.account.id})}
    if len(found) != len(set(refs)):
        raise ApiError(booking.MSG_NO_BENEFICIARY, "beneficiaries", status=404)
    return [found[r] for r in refs]


@bp.post("/registration/beneficiary/new")
@login_required
def new_beneficiary():
    dep = deployment()
    data = load_body()  # schemas.NewBeneficiaryRequest
    doc = db_session().get(IdDocumentType, data["photo_id_type"])
    # Co-WIN's comorbidity_ind "Y" and the profile's priority groups, as phases use them.
    groups = list(data.get("priority_groups") or [])
    if data.get("comorbidity_ind") == "Y":
        groups.append("comorbidities")
    known = set(profile_groups(dep.profile))
    ctx = registration.IdContext.from_settings(dep.id_providers, dep.settings)
    try:
        person = registration.register_beneficiary(
            db_session(), ctx, document_code=doc.code if doc else "",
            id_number=data["photo_id_number"], name=data["name"],
            birth_year=data["birth_year"], gender=GENDER_BY_ID[data["gender_id"]],
            account_id=g.account.id,
            max_per_account=dep.profile["max_beneficiaries_per_mobile"],
            language=g.account.language, current_year=_today().year,
            priority_groups=groups, known_groups=known,
            birth_date=data.get("birth_date"), today=_today(),
            # The service's limits on tries (it answers whether a number is registered).
            limits=dep.limits, address=client_key())
    except registration.RegistrationError:
        db_session().rollback()
        raise  # a refusal: answered by api.errors.answer
    db_session().commit()
    return jsonify({"beneficiary_reference_id": person.reference_id})


@bp.post("/registration/beneficiary/delete")
@login_required
def delete_beneficiary():
    (person,) = _own_beneficiaries([load_body()["beneficiary_reference_id"]])
    session = db_session()
    try:
        registration.delete_beneficiary(session, account_id=g.account.id,
                                        reference_id=person.reference_id)
    except (registration.RegistrationError, booking.BookingError):
        session.rollback()
        raise  # a refusal: answered by api.errors.answer
    session.commit()
    return Response(status=204)


# The priority group of Co-WIN's comorbidity_ind "Y" (beneficiary/new files it so).
COMORBIDITIES = "comorbidities"


def _appointment_fields(a: FamilyAppointment) -> dict:
    """An appointment as Co-WIN's AppointmentResponseSchema: its centre's fields (names in
    the request's language in the *_l fields, pincode as the searches send it), the slot's."""
    (fields,) = public.answer_pincodes([a.centre_fields])
    return {
        "appointment_id": a.id,
        **{k: fields[k] for k in ("center_id", "name", "name_l", "state_name", "state_name_l",
                                  "district_name", "district_name_l", "block_name",
                                  "block_name_l", "pincode", "lat", "long", "fee_type")},
        "from": a.starts.strftime("%H:%M:%S"),
        "to": a.ends.strftime("%H:%M:%S"), "dose": a.dose,
        "session_id": a.session_id, "date": a.date.strftime("%d-%m-%Y"),
        "slot": slots.slot_text(a),
        "secret_code": a.secret_code,
    }


@bp.get("/appointment/beneficiaries")
@login_required
def beneficiaries():
    """The account's people with their doses and active appointments (the family query of
    cowin_kit.registration.family, in Co-WIN's shape)."""
    session = db_session()
    members = family(session, g.account.id, public._lang(), _today())
    first = session.scalar(select(func.min(Programme.id)))
    out = []
    for m in members:
        # Co-WIN knew one programme: the profile's first (its COVID-19 one) is shown; a
        # routine programme's doses do not change these Co-WIN fields.
        series = next((st for st in m.statuses if st.programme_id == first), None)
        given = series.doses if series else ()
        dates = {d.number: d.given_on.strftime("%d-%m-%Y") for d in given}
        status = ("Not Vaccinated" if not given else
                  "Vaccinated" if series.complete else "Partially Vaccinated")
        out.append({
            "beneficiary_reference_id": m.reference_id, "name": m.name,
            "birth_year": str(m.birth_year),
            # Only when given: Co-WIN had no such field, its clients do without it.
            **({"birth_date": m.birth_date.strftime("%d-%m-%Y")} if m.birth_date else {}),
            "gender": m.gender.capitalize(),
            "mobile_number": g.account.mobile[-4:],
            "photo_id_type": m.id_type_name, "photo_id_number": m.id_masked,
            # Co-WIN's flag; beneficiary/new files "Y" as the comorbidities priority group.
            "comorbidity_ind": "Y" if COMORBIDITIES in m.priority_groups else "N",
            "id_verification_status": m.verification,
            "vaccination_status": status,
            "vaccine": given[0].product_name if given else "",
            "dose1_date": dates.get(1, ""), "dose2_date": dates.get(2, ""),
            "appointments": [_appointment_fields(m.appointment)] if m.appointment else [],
        })
    return jsonify({"beneficiaries": out})


@bp.post("/appointment/schedule")
@login_required
def schedule():
    data = load_body(schedule_fast)  # schemas.ScheduleRequest
    captcha.check_on_schedule(g.account.id, data.get("captcha"))  # when CAPTCHA_ON_SCHEDULE
    try:
        # The service reads (and locks) the account's people by their reference ids.
        made = booking.schedule(db_session(), account_id=g.account.id,
                                beneficiary_refs=data["beneficiaries"],
                                session_id=data["session_id"], slot=data["slot"],
                                dose=data["dose"], today=_today(), now=_local_now().time(),
                                account=g.account, attach=False,  # only their ids
                                zone_of=deployment().zone_resolver(db_session()))
    except booking.BookingError:
        db_session().rollback()
        raise  # a refusal: answered by api.errors.answer
    db_session().commit()
    return jsonify({"appointment_confirmation_no": made[0].id,
                    "appointment_ids": [a.id for a in made]})


@bp.post("/appointment/reschedule")
@login_required
def reschedule():
    data = load_body()  # schemas.RescheduleRequest
    try:
        booking.reschedule(db_session(), account_id=g.account.id,
                           appointment_id=data["appointment_id"],
                           session_id=data["session_id"], slot=data["slot"],
                           today=_today(), now=_local_now().time(),
                           max_reschedules=deployment().settings["MAX_RESCHEDULES"],
                           zone_of=deployment().zone_resolver(db_session()))
    except booking.BookingError:
        db_session().rollback()
        raise  # a refusal: answered by api.errors.answer
    db_session().commit()
    return Response(status=204)


@bp.post("/appointment/cancel")
@login_required
def cancel():
    """Cancel an appointment; with ``beneficiariesToCancel``, Co-WIN's form for a family
    booked together, the listed people's active appointments (each person has at most one,
    so the list names them exactly, even after one of them was rescheduled elsewhere)."""
    data = load_body()  # schemas.CancelRequest
    appointment_id = data["appointment_id"]
    session = db_session()
    ids = [appointment_id]
    if data.get("beneficiariesToCancel"):
        people = _own_beneficiaries(data["beneficiariesToCancel"])
        first = session.scalar(select(Appointment).join(Beneficiary).where(
            Appointment.id == str(appointment_id), Beneficiary.account_id == g.account.id))
        if first is None:
            raise ApiError(booking.MSG_NO_APPOINTMENT, "appointment_id", status=404)
        ids = session.scalars(select(Appointment.id).where(
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.beneficiary_id.in_([p.id for p in people]))).all()
        if not ids:
            raise ApiError(booking.MSG_NO_APPOINTMENT, "appointment_id", status=404)
    try:
        booking.cancel(session, account_id=g.account.id, appointment_ids=ids, today=_today())
    except booking.BookingError:
        session.rollback()
        raise  # a refusal: answered by api.errors.answer
    session.commit()
    return Response(status=204)


def _private(view):
    """A logged-in answer may be cached by the browser only, never by a shared cache."""
    def wrapper(*args, **kwargs):
        response = view(*args, **kwargs)
        response.headers["Cache-Control"] = "private, max-age=30"
        return response
    wrapper.__name__ = view.__name__
    return wrapper


# The authenticated twins of the public search (same answers; Co-WIN clients call either).
for _rule, _view in (("findByPin", public.find_by_pin), ("findByDistrict", public.find_by_district),
                     ("calendarByPin", public.calendar_by_pin),
                     ("calendarByDistrict", public.calendar_by_district)):
    bp.add_url_rule(f"/appointment/sessions/{_rule}", f"auth_{_rule}",
                    login_required(_private(_view)))


@bp.get("/registration/certificate/download")
def certificate_download():
    """The certificate of one of the caller's people: its PDF (Co-WIN's endpoint)."""
    return public.certificate_pdf()


def _slip_language() -> str:
    """The slip's language: the request's choice (?lang=, cookie, Accept-Language) first,
    else the account's language, else the deployment's default."""
    offered = deployment().languages
    if request.args.get("lang") or request.cookies.get("lang") or request.accept_languages:
        return public._lang()
    account_lang = getattr(g.account, "language", None)
    return account_lang if account_lang in offered else deployment().default_language


def _wants_html(fmt: str) -> bool:
    fmt = fmt.lower()
    if fmt in ("html", "pdf"):
        return fmt == "html"
    best = request.accept_mimetypes.best_match(["application/pdf", "text/html"])
    return best == "text/html" and (request.accept_mimetypes["text/html"]
                                    > request.accept_mimetypes["application/pdf"])


@bp.get("/appointment/appointmentslip/download")
@login_required
def appointment_slip():
    """The appointment slip of one of the caller's appointments: a PDF (Co-WIN's endpoint),
    or the same slip as an HTML page when the client prefers text/html (or ?format=html)."""
    query = load_query()  # schemas.SlipQuery: appointment_id a UUID, in canonical form
    appointment_id = query["appointment_id"]
    session = db_session()
    appointment = booking.account_appointment(session, g.account.id, appointment_id)
    lang = _slip_language()
    data = slip.slip_data(session, appointment)
    data["issuer"] = ministry_name(deployment().profile, lang)
    headers = {"Cache-Control": "private, no-store", "Vary": "Accept, Accept-Language, Cookie"}
    with force_locale(lang):
        if _wants_html(query.get("format", "")):
            page = render_template("slip.html", slip=data, lang=lang,
                                   qr_svg=qr.svg(data["appointment_id"]),
                                   centre=data["centre_names"].get(lang) or data["centre_name"])
            return Response(page, mimetype="text/html", headers=headers)
        pdf = slip.cached_pdf(data, lang, get_translations())
    headers["Content-Disposition"] = (
        f'attachment; filename="appointment-slip-{data["appointment_id"]}.pdf"')
    return Response(pdf, mimetype="application/pdf", headers=headers)


@bp.post("/registration/beneficiary/aefi")
@login_required
def report_aefi():
    """Report an adverse event following immunisation of one of the caller's people, about
    the dose numbered ``dose`` (the latest with that number) or their latest dose."""
    from cowin_kit.vaccination import aefi

    data = load_body()  # schemas.AefiRequest
    (person,) = _own_beneficiaries([data["beneficiary_reference_id"]])
    session = db_session()
    doses = aefi.person_doses(session, person.id)
    dose_id = None
    if data.get("dose") is not None:
        numbered = [d for d in doses if d.dose_number == data["dose"]]
        if not numbered:
            raise ApiError(aefi.MSG_CHOOSE_DOSE, "dose")
        dose_id = numbered[-1].id
    values = aefi.AefiInput(
        dose_id=dose_id, symptoms=data["symptoms"], onset_on=data["onset_date"],
        onset_time=data.get("onset_time"), seriousness=data["seriousness"],
        serious_criteria=data.get("serious_criteria") or [], outcome=data["outcome"],
        description=data.get("description") or "")
    try:
        report = aefi.report_aefi(session, person=person, doses=doses, data=values,
                                  symptoms=aefi.profile_symptoms(deployment().profile),
                                  now=_local_now(), account_id=g.account.id, channel="api")
    except aefi.AefiError:
        session.rollback()
        raise  # a refusal: answered by api.errors.answer
    session.commit()
    return jsonify({"aefi_id": report.id, "status": report.status})
