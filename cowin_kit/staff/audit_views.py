"""Routes only: the audit log of the administrator's area, filtered and paginated, and its CSV
export (cowin_kit.accounts.audit_log holds the rules: the area, no personal data)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Response, g, render_template, request, stream_with_context
from flask_babel import gettext

from cowin_kit import streamed
from cowin_kit.accounts import audit_log
from cowin_kit.accounts.roles import Can
from cowin_kit.accounts.service import actor, audit
from cowin_kit.runtime import db_session, deployment, read_session
from cowin_kit.staff import access, user_forms
from cowin_kit.staff.access import bp, requires
from cowin_kit.staff.paging import page_of

view_audit = requires(Can.VIEW_AUDIT)
AUDIT_PER_PAGE = 50


def _utc_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the deployment's time zone, in UTC."""
    local = dt.datetime.combine(day, dt.time(), ZoneInfo(deployment().timezone))
    return local.astimezone(dt.UTC)


def _filters():
    """(the filter form, the AuditFilter) from the query string; the filter is None when a
    value is wrong (the form says which)."""
    form = user_forms.AuditFilters(request.args)
    if not form.validate():
        return form, None
    since, until = form.since.data, form.until.data
    if since and until and until < since:
        form.until.errors.append(gettext("The end date must not be before the start date."))
        return form, None
    chosen = audit_log.AuditFilter(
        action=form.action.data or "", actor=form.actor.data or "",
        since=_utc_start(since) if since else None,
        until=_utc_start(until + dt.timedelta(days=1)) if until else None)
    return form, chosen


@bp.get("/audit", endpoint="audit_log")
@view_audit
def audit_log_page():
    db = db_session()
    form, chosen = _filters()
    if chosen is None:
        return render_template("staff/audit.html", filters=form, events=[], page=None,
                               codes={}, export=user_forms.ExportForm(), failed=True), 400
    page = page_of(audit_log.count_events(db, g.area, chosen), AUDIT_PER_PAGE)
    events = audit_log.events(db, g.area, chosen, offset=page.offset, limit=page.per_page)
    return render_template("staff/audit.html", filters=form, events=events, page=page,
                           known_actions=audit_log.recent_actions(db, g.area),
                           codes=audit_log.division_codes(db, (e.division_id for e in events)),
                           export=user_forms.ExportForm(), failed=False)


@bp.post("/audit/export")
@view_audit
def audit_export():
    form = user_forms.ExportForm()
    access.submitted(form)  # a missing or stale CSRF token is a 400
    db = db_session()
    filters, chosen = _filters()
    if chosen is None:
        return render_template("staff/audit.html", filters=filters, events=[], page=None,
                               codes={}, export=form, failed=True), 400
    audit(db, actor(g.staff), "audit.exported", "audit_log", division_id=g.staff.division_id,
          filter_action=chosen.action, filter_actor=chosen.actor,
          since=request.args.get("since", ""), until=request.args.get("until", ""))
    db.commit()
    name = f"audit-{access.today().isoformat()}.csv"
    # The rows come from the read session (a replica when there is one): a long log is the
    # heaviest read a staff member can start, and the log only grows, so a file up to
    # REPLICA_MAX_LAG_SECONDS behind is a true picture of it up to its first row's time
    # (the export's own "audit.exported" event may be after it). Ordered by (at, id), a
    # unique key, so a replica stopping partway is resumed on the primary from the last
    # row sent (cowin_kit.streamed), never a file that only looks complete.
    chunks = streamed.stream(
        read_session(),
        lambda session, after, header: audit_log.csv_chunks(session, g.area, chosen, after,
                                                            header),
        name="audit_log", resumable=True)
    return Response(stream_with_context(streamed.primed(chunks)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
