"""Booking, rescheduling, cancelling and the appointment slip."""
from __future__ import annotations

import re

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale, get_translations, gettext, ngettext
from markupsafe import Markup

from cowin_kit.documents import qr
from cowin_kit.i18n import ministry_name
from cowin_kit.portal import (
    forms,
    views as common,  # the blueprint and shared helpers
)
from cowin_kit.portal.views import bp
from cowin_kit.programmes import eligibility
from cowin_kit.programmes.models import Product
from cowin_kit.registration import service as registration
from cowin_kit.registration.models import Beneficiary
from cowin_kit.runtime import db_session, deployment
from cowin_kit.scheduling import booking, slip, slots
from cowin_kit.scheduling.models import Appointment, VaccinationSession
from cowin_kit.web.user_errors import flash_error

# --- booking -------------------------------------------------------------------------------

def _session_slot_choices(session_id: str) -> list[tuple[str, str]]:
    vs = db_session().get(VaccinationSession, session_id) if re.fullmatch(
        r"[0-9a-f-]{36}", session_id or "") else None
    # The values the search page offers: Co-WIN's slot text, which booking understands.
    return [(slots.slot_text(s), "") for s in vs.slots] if vs else []


def _slot_form(default_back: str):
    """The posted session and slot (booking or moving), the page to go back to, and a
    redirect back there with a message when the form is stale or names no valid slot."""
    form = forms.BookForm()
    form.slot.choices = _session_slot_choices(form.session_id.data)
    back = common.safe_next(request.form.get("back"), default_back)
    if common.csrf_failed(form):
        return form, back, redirect(back)
    if not form.validate():
        flash(gettext("Choose a time."), "error")
        return form, back, redirect(back)
    return form, back, None


def _next_dose(people, session_id: str) -> int | None:
    """The one dose every chosen person needs next in the session's programme; None when
    they differ (book them separately)."""
    vs = db_session().get(VaccinationSession, session_id)
    if vs is None:
        return 1  # the booking service answers "no such session"
    programme_id = db_session().get(Product, vs.product_id).programme_id
    today = common.now().date()
    # A finished schedule has no next dose: ask for the one after, the service says why not.
    doses = {(s.next_dose or s.doses_given + 1) for s in (
        eligibility.vaccination_status(db_session(), p.id, programme_id, today)
        for p in people)}
    return doses.pop() if len(doses) == 1 else None


def _flash_refusal(exc: booking.BookingError, people) -> None:
    """The refusal on the next page; one that asks for a date of birth links to the page
    where it is added (the edit page of the member it names)."""
    missing = [p for p in people if p.birth_date is None]
    person = next((p for p in missing if p.name == exc.params.get("name")),
                  missing[0] if missing else None)
    if exc.field != "birth_date" or person is None:
        flash_error(exc)
        return
    # Markup.format escapes the text and the name; the flashed Markup stays markup.
    flash(Markup('{} <a href="{}">{}</a>').format(
        exc.text(gettext), url_for("portal.member_edit", ref=person.reference_id),
        gettext("Add the date of birth of %(name)s.", name=person.name)), "error")


@bp.post("/book")
@common.login_required
def book():
    form, back, refused = _slot_form(url_for("portal.search_page"))
    if refused:
        return refused
    refs = [r for r in (form.members.data or "").split(",") if r]
    try:
        people = [registration.account_beneficiary(db_session(), g.account.id, r) for r in refs]
    except registration.RegistrationError:
        abort(404)
    if not people:
        flash(gettext("Choose who to book for from your family page."), "error")
        return redirect(url_for("portal.family"))
    dose = _next_dose(people, form.session_id.data)
    if dose is None:
        flash(gettext("These people need different doses; book them one at a time."), "error")
        return redirect(back)
    try:
        made = booking.schedule(db_session(), account_id=g.account.id,
                                beneficiary_ids=[p.id for p in people],
                                session_id=form.session_id.data, slot=form.slot.data,
                                dose=dose, today=common.now().date(), now=common.now().time(),
                                zone_of=deployment().zone_resolver(db_session()))
    except booking.BookingError as exc:
        db_session().rollback()
        _flash_refusal(exc, people)
        return redirect(back)
    db_session().commit()
    flash(ngettext("The appointment is booked.", "%(num)s appointments are booked.",
                   len(made)), "success")
    return redirect(url_for("portal.appointment", appointment_id=made[0].id))


@bp.post("/appointments/<appointment_id>/reschedule")
@common.login_required
def reschedule(appointment_id):
    form, back, refused = _slot_form(url_for("portal.family"))
    if refused:
        return refused
    try:
        booking.reschedule(db_session(), account_id=g.account.id, appointment_id=appointment_id,
                           session_id=form.session_id.data, slot=form.slot.data,
                           today=common.now().date(), now=common.now().time(),
                           max_reschedules=deployment().settings["MAX_RESCHEDULES"],
                           zone_of=deployment().zone_resolver(db_session()))
    except booking.BookingError as exc:
        db_session().rollback()
        if isinstance(exc, booking.NotFound) and exc.field == "appointment_id":
            abort(404)
        person = db_session().get(Beneficiary, _own_appointment(appointment_id).beneficiary_id)
        _flash_refusal(exc, [person])
        return redirect(back)
    db_session().commit()
    flash(gettext("The appointment is moved."), "success")
    return redirect(url_for("portal.appointment", appointment_id=appointment_id))


def _own_appointment(appointment_id: str) -> Appointment:
    try:
        return booking.account_appointment(db_session(), g.account.id, appointment_id)
    except booking.BookingError:  # malformed, unknown or another account's: all "not found"
        abort(404)


@bp.route("/appointments/<appointment_id>/cancel", methods=["GET", "POST"])
@common.login_required
def cancel(appointment_id):
    appointment = _own_appointment(appointment_id)
    form = forms.ConfirmForm()
    if not common.csrf_failed(form) and form.validate_on_submit():
        try:
            booking.cancel(db_session(), account_id=g.account.id,
                           appointment_ids=[appointment.id], today=common.now().date())
        except booking.BookingError as exc:
            db_session().rollback()
            flash_error(exc)
        else:
            db_session().commit()
            flash(gettext("The appointment is cancelled; the place is free for someone else."),
                  "success")
        return redirect(url_for("portal.family"))
    data = slip.slip_data(db_session(), appointment)
    return render_template("portal/cancel.html", slip=data, form=form,
                           past=data["date"] < common.now().date(),
                           centre=data["centre_names"].get(common.lang()) or data["centre_name"])


@bp.get("/appointments/<appointment_id>")
@common.login_required
def appointment(appointment_id):
    found = _own_appointment(appointment_id)
    data = slip.slip_data(db_session(), found)
    return render_template("portal/appointment.html", slip=data, lang=common.lang(),
                           qr_svg=qr.svg(data["appointment_id"]),
                           centre=data["centre_names"].get(common.lang()) or data["centre_name"])


@bp.get("/appointments/<appointment_id>/slip.pdf")
@common.login_required
def appointment_pdf(appointment_id):
    found = _own_appointment(appointment_id)
    data = slip.slip_data(db_session(), found)
    lang = common.lang()
    data["issuer"] = ministry_name(deployment().profile, lang)
    with force_locale(lang):
        pdf = slip.cached_pdf(data, lang, get_translations())
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="appointment-slip-{found.id}.pdf"'})
