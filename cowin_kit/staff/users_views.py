"""Routes only: the staff users of the administrator's area (list, new, one user: re-scope,
disable or enable, reset the password). The rules are cowin_kit.accounts.staff_users'."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext

from cowin_kit.accounts import staff_users
from cowin_kit.accounts.roles import ROLE_NAMES, Can
from cowin_kit.geography.service import division_name
from cowin_kit.runtime import db_session
from cowin_kit.staff import access, user_forms
from cowin_kit.staff.access import bp, requires
from cowin_kit.staff.paging import page_of
from cowin_kit.web.user_errors import flash_error, form_error

manage_users = requires(Can.MANAGE_USERS)


def _role_choices(roles) -> list[tuple[str, str]]:
    return [(r, gettext(ROLE_NAMES[r])) for r in roles]


def _where(row) -> str:
    """"DEMO-PE-0001 · Lima" or "Lima" or "the whole country"."""
    lang = str(get_locale())
    parts = []
    if row.facility is not None:
        parts.append(f"{row.facility.code} {row.facility.name}")
    if row.division is not None:
        parts.append(division_name(row.division, lang))
    return " · ".join(parts) or gettext("The whole country")


def _refuse_if_forbidden(exc: staff_users.AccountError) -> None:
    """A role, area or user outside the administrator's is a 403, with its reason in the
    audit log (access.denied)."""
    if exc.status != 403:
        return
    if exc.msgid == staff_users.MSG_SELF:
        access.forbidden("own account")
    access.forbidden("outside rank" if exc.field == "role" else "outside area")


def _scope_error(form, exc: staff_users.AccountError):
    """A 403 for a role or area outside the administrator's, else the field's error."""
    _refuse_if_forbidden(exc)
    return form_error(form, exc)


@bp.get("/users")
@manage_users
def users():
    db = db_session()
    filters = user_forms.UserFilters(request.args)
    roles = staff_users.manageable_roles(g.staff)
    filters.role.choices = [("", gettext("All roles")), *_role_choices(
        [r for r in staff_users.ROLES if r in roles or r == g.staff.role])]
    if not filters.validate():
        return render_template("staff/users.html", filters=filters, rows=[], page=None,
                               failed=True, where=_where), 400
    chosen = {"q": filters.q.data or "", "role": filters.role.data or ""}
    page = page_of(staff_users.count_users(db, g.area, **chosen), access.PER_PAGE)
    rows = staff_users.list_users(db, g.area, offset=page.offset, limit=page.per_page,
                                  **chosen)
    return render_template("staff/users.html", filters=filters, rows=rows, page=page,
                           failed=False, where=_where, role_names=ROLE_NAMES,
                           searched=any(chosen.values()))


@bp.route("/users/new", methods=["GET", "POST"])
@manage_users
def user_new():
    db = db_session()
    form = user_forms.NewUserForm()
    form.role.choices = _role_choices(staff_users.manageable_roles(g.staff))
    page_error = None
    if access.submitted(form):
        try:
            user, password = staff_users.create_user(
                db, g.staff, form.email.data, form.role.data, form.division.data,
                form.facility.data)
        except staff_users.AccountError as exc:
            db.rollback()
            page_error = _scope_error(form, exc)
        else:
            db.commit()
            # Shown on this answer only (never put in the cookie, never shown again).
            flash(gettext("The user %(email)s has been created.", email=user.email))
            return _user_page(db, user, password=password)
    failed = bool(form.errors or page_error)
    return render_template("staff/user_new.html", form=form, failed=failed,
                           page_error=page_error), 400 if failed else 200


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
@manage_users
def user(user_id: int):
    db = db_session()
    target = staff_users.user_in_area(db, g.area, user_id)
    if target is None:
        abort(404)
    form = user_forms.ScopeForm(prefix="scope")
    action = user_forms.ActionForm()
    form.role.choices = _role_choices(staff_users.manageable_roles(g.staff))
    page_error = None
    if request.method == "POST" and "do" in request.form:
        if access.submitted(action):
            return _act(db, target, action.do.data)
    elif access.submitted(form):
        try:
            changed = staff_users.rescope(db, g.staff, target, form.role.data,
                                          form.division.data, form.facility.data)
        except staff_users.AccountError as exc:
            db.rollback()
            page_error = _scope_error(form, exc)
        else:
            db.commit()
            flash(gettext("The role and area have been changed; the user's logins have "
                          "ended.") if changed else gettext("Nothing was changed."))
            return redirect(url_for("staff.user", user_id=target.id))
    if request.method == "GET":
        _fill(form, staff_users.user_row(db, target))
    return _user_page(db, target, form=form, action=action, page_error=page_error)


def _fill(form, row) -> None:
    form.role.data = row.user.role
    form.division.data = row.division.code if row.division and not row.facility else ""
    form.facility.data = row.facility.code if row.facility else ""


def _user_page(db, target, *, form=None, action=None, page_error=None, password=None):
    row = staff_users.user_row(db, target)
    if form is None:
        form = user_forms.ScopeForm(prefix="scope", formdata=None)
        form.role.choices = _role_choices(staff_users.manageable_roles(g.staff))
        _fill(form, row)
    action = action or user_forms.ActionForm(formdata=None)
    failed = bool(form.errors or page_error)
    return render_template("staff/user.html", target=target, row=row, form=form,
                           action=action, failed=failed, page_error=page_error,
                           where=_where(row), role_name=gettext(ROLE_NAMES[target.role]),
                           may_manage=target.role in staff_users.manageable_roles(g.staff)
                           and target.id != g.staff.id,
                           password=password), 400 if failed else 200


def _act(db, target, do: str):
    try:
        if do == "disable":
            staff_users.set_active(db, g.staff, target, False)
            message = gettext("The user has been disabled; their logins have ended.")
        elif do == "enable":
            staff_users.set_active(db, g.staff, target, True)
            message = gettext("The user has been enabled.")
        elif do == "reset":
            password = staff_users.reset_password(db, g.staff, target)
            db.commit()
            flash(gettext("The password has been reset; the user's logins have ended."))
            return _user_page(db, target, password=password)
        else:
            abort(400)
    except staff_users.AccountError as exc:
        db.rollback()
        _refuse_if_forbidden(exc)
        flash_error(exc)
        return redirect(url_for("staff.user", user_id=target.id))
    db.commit()
    flash(message)
    return redirect(url_for("staff.user", user_id=target.id))
