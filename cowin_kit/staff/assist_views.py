"""Assisted registration: a call-centre or service-centre operator registers and books for a
citizen. The citizen consents with a code sent to their mobile, read out to the operator, or
the operator attests it; then the operator sees (masked) the people of that mobile (all of
them after a code, only those they register after an attestation), registers people and
books sessions of their area. Rules: cowin_kit.registration.assisted; this module routes.

What the operator has proven is kept in the (encrypted) session cookie, never in the URL."""
from __future__ import annotations

import datetime as dt
import re

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext
from sqlalchemy import select

from cowin_kit.accounts import otp
from cowin_kit.accounts.roles import Can
from cowin_kit.accounts.service import in_area
from cowin_kit.collation import sorted_by_name
from cowin_kit.errors import UserError
from cowin_kit.geography.models import Division
from cowin_kit.geography.service import division_name
from cowin_kit.i18n import country_name
from cowin_kit.registration import assisted
from cowin_kit.registration.models import Beneficiary
from cowin_kit.runtime import db_session, deployment
from cowin_kit.scheduling import search, slots, walk_in
from cowin_kit.scheduling.models import Appointment, AppointmentStatus, Facility
from cowin_kit.staff import registration_forms as forms
from cowin_kit.staff.access import bp, forbidden, requires, submitted, today
from cowin_kit.staff.forms import LogoutForm
from cowin_kit.staff.walk_in_views import _attach, _ctx, _person_form, now
from cowin_kit.web.user_errors import form_error

ASSIST_KEY = "assist"  # {"mobile": E.164, "txn": id, "consent": otp|attested, "people": [ids]}
SEARCH_DAYS = 7


def _state() -> dict:
    return session.get(ASSIST_KEY) or {}


def _consented() -> dict | None:
    state = _state()
    return state if state.get("consent") in (assisted.CONSENT_OTP,
                                             assisted.CONSENT_ATTESTED) else None


@bp.route("/assist", methods=["GET", "POST"], endpoint="assist")
@requires(Can.ASSIST)
def assist_page():
    form = forms.MobileForm()
    errors: list[str] = []
    if submitted(form):
        dep = deployment()
        db = db_session()
        attest = request.form.get("action") == "attest"
        try:
            if attest:
                if not form.attest.data:
                    form.attest.errors = [gettext("Tick the box to confirm the citizen's "
                                                  "consent, or send a code instead.")]
                    raise _NoConsent
                mobile = otp.normalize_mobile(form.mobile.data, dep.profile["phone_region"])
                assisted.attest_consent(db, user=g.staff)
                txn = None
            else:
                lang = str(get_locale())
                txn, mobile = assisted.send_consent_code(
                    db, mobile_raw=form.mobile.data, region=dep.profile["phone_region"],
                    messenger=dep.messenger, settings=dep.settings, lang=lang,
                    service=country_name(dep.profile.code, lang))
        except _NoConsent:
            pass
        except UserError as exc:
            db.rollback()
            message = form_error(form, exc, default="mobile")
            if message:
                errors.append(message)
        else:
            db.commit()
            session[ASSIST_KEY] = {
                "mobile": mobile, "txn": txn, "people": [],
                "consent": assisted.CONSENT_ATTESTED if attest else None}
            return redirect(url_for("staff.assist_family" if attest else "staff.assist_code"))
    failed = bool(form.errors or errors)
    return render_template("staff/assist.html", form=form, failed=failed,
                           problems=[("mobile", e) for e in errors]), 400 if failed else 200


class _NoConsent(Exception):
    pass


@bp.route("/assist/code", methods=["GET", "POST"])
@requires(Can.ASSIST)
def assist_code():
    state = _state()
    if not state.get("txn"):
        return redirect(url_for("staff.assist"))
    form = forms.ConsentCodeForm()
    if submitted(form):
        db = db_session()
        try:
            mobile = assisted.confirm_consent(db, user=g.staff, txn_id=state["txn"],
                                              code=form.code.data,
                                              settings=deployment().settings)
        except UserError as exc:
            db.rollback()
            form_error(form, exc, default="code")
        else:
            db.commit()
            session[ASSIST_KEY] = {"mobile": mobile, "txn": None, "people": [],
                                   "consent": assisted.CONSENT_OTP}
            return redirect(url_for("staff.assist_family"))
    failed = bool(form.errors)
    return render_template("staff/assist_code.html", form=form, failed=failed,
                           mobile=otp.mask_mobile(state["mobile"])), 400 if failed else 200


def _people(state: dict) -> list[Beneficiary]:
    return assisted.visible_people(db_session(), mobile=state["mobile"],
                                   consent=state["consent"], registered_ids=state["people"])


@bp.get("/assist/family")
@requires(Can.ASSIST)
def assist_family():
    state = _consented()
    if state is None:
        return redirect(url_for("staff.assist"))
    people = _people(state)
    booked = {a.beneficiary_id: a for a in db_session().scalars(select(Appointment).where(
        Appointment.beneficiary_id.in_([p.id for p in people] or [-1]),
        Appointment.status == AppointmentStatus.BOOKED))}
    return render_template("staff/assist_family.html", people=people, booked=booked,
                           mobile=otp.mask_mobile(state["mobile"]),
                           consent=state["consent"], end_form=LogoutForm(), failed=False,
                           limit=deployment().profile["max_beneficiaries_per_mobile"])


@bp.post("/assist/end")
@requires(Can.ASSIST)
def assist_end():
    if submitted(LogoutForm()):
        session.pop(ASSIST_KEY, None)
    return redirect(url_for("staff.assist"))


@bp.route("/assist/register", methods=["GET", "POST"])
@requires(Can.ASSIST)
def assist_register():
    state = _consented()
    if state is None:
        return redirect(url_for("staff.assist"))
    form = _person_form()
    del form.mobile  # the citizen's, proven or attested
    errors: list[str] = []
    if submitted(form):
        dep = deployment()
        db = db_session()
        try:
            done = assisted.find_or_register(
                db, _ctx(), user=g.staff, division_id=g.staff.division_id,
                activity="assist", document_code=form.id_type.data,
                id_number=form.id_number.data, name=form.name.data,
                birth_year=form.birth_year.data, birth_date=form.birth_date.data,
                gender=form.gender.data, mobile=state["mobile"],
                language=form.language.data or dep.profile.default_language,
                max_per_mobile=dep.profile["max_beneficiaries_per_mobile"],
                current_year=now().year, today=today())
            if done.found and done.person.id not in {p.id for p in _people(state)}:
                # Someone of another family (or of none): not the operator's to see.
                raise UserError(assisted.MSG_OTHER_FAMILY, "id_number")
        except UserError as exc:
            db.rollback()
            _attach(form, exc, errors)
        else:
            db.commit()
            session[ASSIST_KEY] = {**state, "people": [*state["people"], done.person.id]}
            flash(gettext("%(name)s is registered. Reference ID: %(ref)s.",
                          name=done.person.name, ref=done.person.reference_id), "success")
            return redirect(url_for("staff.assist_family"))
    failed = bool(form.errors or errors)
    return render_template("staff/assist_register.html", form=form, failed=failed,
                           problems=[("name", e) for e in errors]), 400 if failed else 200


def _visible_person(state: dict, ref: str) -> Beneficiary:
    person = next((p for p in _people(state) if p.reference_id == ref), None)
    if person is None:
        abort(404)
    return person


def _area_districts() -> list[tuple[int, str]]:
    """The districts (second level) the operator may search in."""
    query = select(Division).where(Division.level == 2)
    if g.area is not None:
        query = query.where(Division.id.in_(g.area))
    lang = str(get_locale())
    return sorted_by_name(((d.id, division_name(d, lang)) for d in db_session().scalars(query)),
                          lang, lambda r: r[1])


def _search(person: Beneficiary, pincode: str, district: int | None) -> list[dict]:
    """This week's sessions by postal code or district that admit the person's age and
    have places left for their next dose (as the portal's search narrows them), only of
    centres in the area."""
    from cowin_kit.programmes import eligibility

    db = db_session()
    found = search.calendar(db, str(get_locale()), today(), days=SEARCH_DAYS,
                            **({"pincode": pincode} if pincode else {"district_id": district}))
    started = eligibility.statuses(db, [person.id], today()).get(person.id)
    dose = (started[0].next_dose or started[0].doses_given + 1) if started else 1
    found = search.filter_centres(found, search.Filters(
        age=today().year - person.birth_year, dose=dose, available_only=True))
    ids = [c["center_id"] for c in found]
    divisions = dict(db.execute(select(Facility.id, Facility.division_id)
                                .where(Facility.id.in_(ids or [-1]))).all())
    return [c for c in found if in_area(g.area, divisions[c["center_id"]])]


def _open_slots(s: dict) -> list[str]:
    day = dt.datetime.strptime(s["date"], "%d-%m-%Y").date()
    return [t for t in s["slots"]
            if not slots.has_ended(day, slots.parse(t).ends, today=today(),
                                   now=now().time())]


@bp.route("/assist/book/<ref>", methods=["GET", "POST"])
@requires(Can.ASSIST)
def assist_book(ref):
    state = _consented()
    if state is None:
        return redirect(url_for("staff.assist"))
    person = _visible_person(state, ref)
    form = forms.AssistBookForm()
    errors: list[str] = []
    if submitted(form):
        db = db_session()
        try:
            appointment = assisted.book_for(
                db, user=g.staff, area=g.area, person=person,
                session_id=form.session_id.data, slot=form.slot.data,
                consent=state["consent"], today=today(), now=now().time(),
                zone_of=deployment().zone_resolver(db))
        except walk_in.OutsideArea:
            forbidden("area")
        except UserError as exc:
            db.rollback()
            # The form's fields are hidden or one per session: the refusal goes on top.
            errors.append(exc.text(gettext))
        else:
            db.commit()
            flash(gettext("Booked for %(name)s. Secret code: %(code)s.", name=person.name,
                          code=appointment.secret_code), "success")
            return redirect(url_for("staff.assist_family"))
    pincode = request.args.get("pincode", "").strip()[:20]
    raw = request.args.get("district", "")
    district = int(raw) if re.fullmatch(r"[0-9]{1,9}", raw) else None
    districts = _area_districts()
    search_error = None
    centres = []
    if pincode and not re.fullmatch(deployment().profile["postal_code_pattern"], pincode):
        search_error = gettext("Enter a postal code of this country, e.g. %(example)s.",
                               example=deployment().profile["postal_code_example"])
    elif pincode or district is not None:
        if district is not None and district not in {d for d, _name in districts}:
            search_error = gettext("Choose a district from the list.")
        else:
            centres = _search(person, pincode, district)
    failed = bool(form.errors or errors or search_error)
    return render_template(
        "staff/assist_book.html", person=person, form=form, centres=centres,
        districts=districts, pincode=pincode, district=district, search_error=search_error,
        open_slots=_open_slots, failed=failed, searched=bool(pincode or district),
        problems=[("main", e) for e in errors] + (
            [("pincode", search_error)] if search_error else []),
    ), 400 if failed else 200
