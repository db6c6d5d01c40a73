"""Routes only: the appointments of the administrator's area (cowin_kit.scheduling.
appointment_list), searched by the beneficiary's reference ID and filtered by day, centre
and status. Search is by the reference (what the person holds on the slip), not by the
4-digit secret code: that one proves the person at the centre, and is no key to a list."""
from __future__ import annotations

from flask import g, render_template, request
from flask_babel import gettext

from cowin_kit.runtime import db_session
from cowin_kit.scheduling import appointment_list
from cowin_kit.scheduling.models import AppointmentStatus
from cowin_kit.staff import user_forms
from cowin_kit.staff.access import PER_PAGE, bp, staff_page
from cowin_kit.staff.paging import page_of


def status_names() -> dict[str, str]:
    return {AppointmentStatus.BOOKED.value: gettext("Booked"),
            AppointmentStatus.CANCELLED.value: gettext("Cancelled"),
            AppointmentStatus.MISSED.value: gettext("Missed"),
            AppointmentStatus.DONE.value: gettext("Vaccinated")}


@bp.get("/appointments")
@staff_page
def appointments():
    db = db_session()
    names = status_names()
    filters = user_forms.AppointmentFilters(request.args)
    filters.status.choices = [("", gettext("All statuses")), *names.items()]
    if not filters.validate() or (filters.status.data or "") not in ("", *names):
        if not filters.status.errors and (filters.status.data or "") not in ("", *names):
            filters.status.errors = [gettext("Choose one of the statuses offered.")]
        return render_template("staff/appointments.html", filters=filters, rows=[],
                               page=None, names=names, failed=True), 400
    chosen = appointment_list.AppointmentFilter(
        reference=filters.ref.data or "", date=filters.date.data,
        centre_code=filters.centre.data or "", status=filters.status.data or "")
    page = page_of(appointment_list.count_appointments(db, g.area, chosen), PER_PAGE)
    rows = appointment_list.appointments(db, g.area, chosen, offset=page.offset,
                                         limit=page.per_page)
    return render_template("staff/appointments.html", filters=filters, rows=rows, page=page,
                           names=names, failed=False)
