"""Routes of the citizen portal. The rules are the services' (accounts.otp, registration,
scheduling.booking/search); these views only read forms, call them and render.

The web login is the API's: a confirmed OTP issues the same kind of token, kept in the
signed session cookie, so expiry and logout (revocation) work the same way for both."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from functools import wraps
from zoneinfo import ZoneInfo

from flask import (Blueprint, Response, abort, flash, g, redirect, render_template, request,
                   session, url_for)
from babel.dates import format_skeleton
from flask_wtf.csrf import generate_csrf
from flask_babel import force_locale, get_locale, get_translations, gettext
from sqlalchemy import func, select

from cowin_kit.accounts import otp
from cowin_kit.api.limits import CONFIRM_PER_IP, OTP_PER_IP, limiter
from cowin_kit.api.public import GENDERS
from cowin_kit.app import db_session, deployment
from cowin_kit.geography.models import Division
from cowin_kit.geography.service import division_name
from cowin_kit.i18n import country_name
from cowin_kit.portal import forms, service
from cowin_kit.programmes.groups import group_name, profile_groups
from cowin_kit.programmes.models import DoseRule, Product
from cowin_kit.registration import service as registration
from cowin_kit.registration.models import IdDocumentType
from cowin_kit.scheduling import booking, search, slip
from cowin_kit.scheduling.models import Appointment, VaccinationSession

bp = Blueprint("portal", __name__, url_prefix="/portal", template_folder="templates")

TOKEN_KEY = "citizen_token"
MEMBER_TRIES_PER_ACCOUNT = "20 per hour;50 per day"
SEARCH_DAYS = 7


# --- helpers -------------------------------------------------------------------------------

def _now() -> dt.datetime:
    return dt.datetime.now(ZoneInfo(deployment().timezone))


def _lang() -> str:
    return str(get_locale() or deployment().default_language)


def _say(exc) -> str:
    """A service's refusal (msgid + params) in the reader's language."""
    return gettext(exc.msgid, **exc.params)


def _csrf_failed(form) -> bool:
    """A POST whose CSRF token is missing or stale: say so in our words, change nothing."""
    if form.is_submitted() and getattr(form, "csrf_token", None) is not None:
        form.csrf_token.validate(form)  # fills .errors without running the other fields
        if form.csrf_token.errors:
            flash(str(forms.MSG_CSRF), "error")
            return True
    return False


def field_attrs(field, hint="", direction="") -> dict:
    """HTML attributes that tie a field to its hint and error for screen readers (WTForms
    would write an attribute given None as "None", so only those that apply are set)."""
    attrs, described = {}, []
    if hint:
        described.append(f"{field.id}-hint")
    if field.errors:
        described.append(f"{field.id}-error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if direction:
        attrs["dir"] = direction
    return attrs


@bp.app_context_processor
def _template_helpers():
    return {"csrf_token": generate_csrf, "field_attrs": field_attrs}


@bp.before_request
def _load_account():
    g.account = None
    token = session.get(TOKEN_KEY)
    if token:
        try:
            g.account = otp.authenticate(db_session(), token)
        except otp.LoginError:
            session.pop(TOKEN_KEY, None)
            flash(gettext("Your login has ended; please log in again."), "info")
            return
        if request.method == "POST" and g.account.language != _lang():
            # SMS follow the language the person reads in; kept when they next act (a
            # POST), never on a GET, which a link from another site could trigger.
            g.account.language = _lang()


@bp.after_request
def _no_store(response):
    """Pages of a logged-in person are never kept by shared caches or the back button."""
    if g.get("account") is not None:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.account is None:
            return redirect(url_for("portal.login", next=request.full_path
                                    if request.method == "GET" else None))
        return view(*args, **kwargs)
    return wrapper


_PORTAL_PATH = re.compile(r"/portal/[\x21-\x5b\x5d-\x7e]*")  # printable ASCII, no "\\"


def _safe_next(target: str | None, default: str) -> str:
    """Only a path inside the portal: never an open redirect to another site, and nothing
    (spaces, control characters) that could not go into a Location header."""
    if target and _PORTAL_PATH.fullmatch(target) and not target.startswith("//"):
        return target
    return default


# --- login ---------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(OTP_PER_IP, methods=["POST"])
def login():
    if g.account is not None:
        return redirect(url_for("portal.family"))
    form = forms.LoginForm()
    dep = deployment()
    if not _csrf_failed(form) and form.validate_on_submit():
        try:
            txn = otp.generate_otp(
                db_session(), mobile_raw=form.mobile.data, region=dep.profile["phone_region"],
                purpose="public", messenger=dep.messenger, settings=dep.settings,
                lang=_lang(), service=country_name(dep.profile.code, _lang()))
        except otp.LoginError as exc:
            db_session().rollback()
            form.mobile.errors.append(gettext(exc.msgid, **exc.params))
        else:
            db_session().commit()
            session["otp_txn"] = txn
            session["otp_mobile"] = otp.normalize_mobile(form.mobile.data,
                                                         dep.profile["phone_region"])
            session["login_next"] = _safe_next(request.args.get("next"), "")
            return redirect(url_for("portal.login_code"))
    return render_template("portal/login.html", form=form, example=_mobile_example()), (
        400 if form.errors else 200)


def _mobile_example() -> str:
    import phonenumbers

    region = deployment().profile["phone_region"]
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if number is None:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(CONFIRM_PER_IP, methods=["POST"])
def login_code():
    txn = session.get("otp_txn")
    if not txn:
        return redirect(url_for("portal.login"))
    form = forms.OtpForm()
    if not _csrf_failed(form) and form.validate_on_submit():
        digest = hashlib.sha256(form.code.data.strip().encode()).hexdigest()
        try:
            token, _new = otp.confirm_otp(db_session(), txn_id=txn, otp_sha256=digest,
                                          settings=deployment().settings, lang=_lang(),
                                          purpose="public")
        except otp.LoginError as exc:
            db_session().rollback()
            form.code.errors.append(gettext(exc.msgid, **exc.params))
            if isinstance(exc, (otp.TooManyTries, otp.OtpExpired, otp.OtpAlreadyUsed)):
                session.pop("otp_txn", None)  # this code is finished: ask for a new one
        else:
            db_session().commit()
            target = session.get("login_next") or url_for("portal.family")
            session.clear()  # a fresh session after login: nothing carried over
            session.permanent = True
            session[TOKEN_KEY] = token
            return redirect(target)
    mobile = session.get("otp_mobile", "")
    return render_template("portal/login_code.html", form=form,
                           mobile=otp.mask_mobile(mobile) if mobile else "",
                           resend_form=forms.ConfirmForm(),
                           finished="otp_txn" not in session), 400 if form.errors else 200


@bp.post("/login/resend")
@limiter.limit(OTP_PER_IP)
def login_resend():
    mobile = session.get("otp_mobile")
    if not mobile:
        return redirect(url_for("portal.login"))
    form = forms.ConfirmForm()
    if _csrf_failed(form):
        return redirect(url_for("portal.login_code"))
    dep = deployment()
    try:
        session["otp_txn"] = otp.generate_otp(
            db_session(), mobile_raw=mobile, region=dep.profile["phone_region"],
            purpose="public", messenger=dep.messenger, settings=dep.settings, lang=_lang(),
            service=country_name(dep.profile.code, _lang()))
    except otp.LoginError as exc:
        db_session().rollback()
        flash(gettext(exc.msgid, **exc.params), "error")
    else:
        db_session().commit()
        flash(gettext("A new code was sent."), "info")
    return redirect(url_for("portal.login_code"))


@bp.post("/logout")
def logout():
    form = forms.ConfirmForm()
    if _csrf_failed(form):  # change nothing: the person is still logged in, and is told
        return redirect(url_for("portal.family"))
    if g.account is not None:
        try:
            otp.revoke(db_session(), session.get(TOKEN_KEY))
            db_session().commit()
        except otp.LoginError:
            pass  # already ended: logging out is done either way
    session.clear()
    flash(gettext("You have logged out."), "info")
    return redirect(url_for("portal.login"))


# --- the family ----------------------------------------------------------------------------

@bp.get("/")
@login_required
def family():
    dep = deployment()
    members = service.family(db_session(), g.account.id, _lang(), _now().date())
    return render_template("portal/family.html", members=members,
                           limit=dep.profile["max_beneficiaries_per_mobile"],
                           mobile=otp.mask_mobile(g.account.mobile),
                           group_label=lambda code: group_name(code, gettext),
                           logout_form=forms.ConfirmForm())


def _id_types() -> list[tuple[str, str, object]]:
    """(code, name in the reader's language, provider) of the documents accepted here."""
    dep = deployment()
    lang = _lang()
    out = []
    for t in db_session().scalars(select(IdDocumentType).where(IdDocumentType.is_active.is_(True))
                                  .order_by(IdDocumentType.sort_order)):
        provider = dep.id_providers.get(t.code)
        if provider is not None:  # no provider installed: registering would be refused
            out.append((t.code, (t.names or {}).get(lang) or t.name, provider))
    return out


def _member_form(editing: bool, obj=None):
    form = forms.MemberForm(editing=editing, obj=obj)
    form.gender.choices = [(code, gettext(label)) for _id, code, label in GENDERS]
    form.priority_groups.choices = [(c, group_name(c, gettext))
                                    for c in profile_groups(deployment().profile)]
    if not editing:
        form.id_type.choices = [("", gettext("Choose…"))] + [(c, n) for c, n, _ in _id_types()]
    return form


def _attach(form, exc) -> None:
    """Put a service refusal next to the field it names (or above the form)."""
    fields = {"id_type": "id_type", "id_number": "id_number", "name": "name",
              "birth_year": "birth_year", "gender": "gender",
              "priority_groups": "priority_groups"}
    name = fields.get(exc.field)
    if name and name in form:
        form[name].errors = [*form[name].errors, _say(exc)]
    else:
        form.form_errors.append(_say(exc))


def _known_groups() -> set[str]:
    return set(profile_groups(deployment().profile))


def _account_key() -> str:
    """Rate-limit key: the account when logged in (else the address)."""
    from flask_limiter.util import get_remote_address

    return f"account:{g.account.id}" if g.get("account") is not None else get_remote_address()


@bp.route("/members/new", methods=["GET", "POST"])
@login_required
# Registering answers whether an ID number is already registered: limit the tries so that
# an account cannot be used to probe a country's ID numbers.
@limiter.limit(MEMBER_TRIES_PER_ACCOUNT, key_func=_account_key, methods=["POST"])
def member_new():
    dep = deployment()
    form = _member_form(editing=False)
    if not _csrf_failed(form) and form.validate_on_submit():
        ctx = registration.IdContext.from_settings(dep.id_providers, dep.settings)
        try:
            person = registration.register_beneficiary(
                db_session(), ctx, document_code=form.id_type.data, id_number=form.id_number.data,
                name=form.name.data, birth_year=form.birth_year.data, gender=form.gender.data,
                account_id=g.account.id,
                max_per_account=dep.profile["max_beneficiaries_per_mobile"],
                language=g.account.language or _lang(), current_year=_now().year,
                priority_groups=form.priority_groups.data, known_groups=_known_groups())
        except registration.RegistrationError as exc:
            db_session().rollback()
            _attach(form, exc)
        else:
            db_session().commit()
            flash(gettext("%(name)s is registered. Reference ID: %(ref)s.",
                          name=person.name, ref=person.reference_id), "success")
            return redirect(url_for("portal.family"))
    hints = {code: (gettext(p.hint) if p.hint else "", p.example) for code, _n, p in _id_types()}
    return render_template("portal/member_form.html", form=form, editing=False, hints=hints), (
        400 if form.errors or form.form_errors else 200)


@bp.route("/members/<ref>/edit", methods=["GET", "POST"])
@login_required
def member_edit(ref):
    try:
        person = registration.account_beneficiary(db_session(), g.account.id, ref)
    except registration.RegistrationError:
        abort(404)
    form = _member_form(editing=True, obj=person if request.method == "GET" else None)
    if not _csrf_failed(form) and form.validate_on_submit():
        try:
            dep = deployment()
            registration.update_beneficiary(
                db_session(), account_id=g.account.id, reference_id=ref, name=form.name.data,
                birth_year=form.birth_year.data, gender=form.gender.data,
                priority_groups=form.priority_groups.data, known_groups=_known_groups(),
                current_year=_now().year, translate=gettext,
                ctx=registration.IdContext.from_settings(dep.id_providers, dep.settings))
        except registration.RegistrationError as exc:
            db_session().rollback()
            _attach(form, exc)
        else:
            db_session().commit()
            flash(gettext("The details of %(name)s are saved.", name=form.name.data), "success")
            return redirect(url_for("portal.family"))
    return render_template("portal/member_form.html", form=form, editing=True, person=person,
                           hints={}), 400 if form.errors or form.form_errors else 200


@bp.route("/members/<ref>/delete", methods=["GET", "POST"])
@login_required
def member_delete(ref):
    try:
        person = registration.account_beneficiary(db_session(), g.account.id, ref)
    except registration.RegistrationError:
        abort(404)
    form = forms.ConfirmForm()
    if not _csrf_failed(form) and form.validate_on_submit():
        name = person.name
        try:
            registration.delete_beneficiary(db_session(), account_id=g.account.id,
                                            reference_id=ref)
        except (registration.RegistrationError, booking.BookingError) as exc:
            db_session().rollback()
            flash(_say(exc), "error")
        else:
            db_session().commit()
            flash(gettext("%(name)s was removed from your account.", name=name), "success")
        return redirect(url_for("portal.family"))
    return render_template("portal/member_delete.html", person=person, form=form)


# --- search --------------------------------------------------------------------------------

class _SearchQuery:
    """The search page's parameters, read and checked (GET: bookmarkable, no CSRF)."""

    def __init__(self, args, today: dt.date):
        self.errors: dict[str, str] = {}
        self.pincode = args.get("pincode", "").strip()[:20]
        self.state = _whole(args.get("state"))
        self.district = _whole(args.get("district"))
        # A postal code, when typed, is what the person searches by; else the district.
        self.by = args.get("by") if args.get("by") in ("pincode", "district") else (
            "district" if self.district is not None and not self.pincode else "pincode")
        self.start = today
        raw_date = args.get("date", "").strip()
        if raw_date:
            try:
                self.start = dt.date.fromisoformat(raw_date)
            except ValueError:
                self.errors["date"] = gettext("Enter a date, e.g. %(example)s.",
                                              example=today.isoformat())
            else:
                if self.start < today:
                    self.start = today  # nothing can be booked in the past
                if self.start > today + dt.timedelta(days=366):
                    self.errors["date"] = gettext("Choose a date within the next year.")
                    self.start = today  # (and far from the limits of date arithmetic)
        self.vaccine = args.get("vaccine", "").strip()[:80] or None
        self.age = _whole(args.get("age"))
        if args.get("age") and (self.age is None or self.age > 130):
            self.errors["age"] = gettext("Enter an age in years, e.g. 45.")
            self.age = None
        self.dose = _whole(args.get("dose"))
        self.fee = args.get("fee") if args.get("fee") in ("Free", "Paid") else None
        self.members = [r for r in args.getlist("for") if r.isdigit()][:10]
        self.move = args.get("move", "").strip()[:40] or None

    @property
    def ready(self) -> bool:
        if self.by == "pincode":
            return bool(self.pincode)
        return self.district is not None

    def filters(self) -> search.Filters:
        return search.Filters(vaccine=self.vaccine, age=self.age, dose=self.dose,
                               fee_type=self.fee)


def _whole(raw) -> int | None:
    return int(raw) if isinstance(raw, str) and re.fullmatch(r"[0-9]{1,9}", raw) else None


def _divisions(parent_id: int | None, level: int) -> list[tuple[int, str]]:
    lang = _lang()
    query = select(Division).where(Division.level == level)
    if parent_id is not None:
        query = query.where(Division.parent_id == parent_id)
    rows = [(d.id, division_name(d, lang)) for d in db_session().scalars(query)]
    return sorted(rows, key=lambda r: r[1].casefold())


def _booking_context(q: _SearchQuery):
    """Who is being booked (or which appointment moved), for a logged-in person."""
    if g.account is None:
        return [], None
    members = {m.reference_id: m for m in service.family(db_session(), g.account.id, _lang(),
                                                         _now().date())}
    if q.move:
        moving = next((m for m in members.values()
                       if m.appointment and m.appointment.id == q.move), None)
        if moving is None:
            abort(404)
        return [moving], moving.appointment
    chosen = [members[r] for r in q.members if r in members]
    if len(chosen) != len(q.members):
        abort(404)
    return chosen, None


@bp.get("/search")
def search_page():
    dep = deployment()
    today = _now().date()
    q = _SearchQuery(request.args, today)
    chosen, moving = _booking_context(q)
    if chosen and q.dose is None and "dose" not in request.args:
        doses = {m.next_dose for m in chosen}
        if len(doses) == 1:
            q.dose = doses.pop()  # show the sessions with places for the dose they need
    if q.by == "pincode" and q.pincode and not re.fullmatch(dep.profile["postal_code_pattern"],
                                                             q.pincode):
        q.errors["pincode"] = gettext("Enter a postal code of this country, e.g. %(example)s.",
                                      example=dep.profile["postal_code_example"])
    centres, vaccines = [], []
    if q.ready and not q.errors:
        if q.by == "district" and db_session().get(Division, q.district) is None:
            q.errors["district"] = gettext("Choose a district from the list.")
        else:
            found = search.calendar(db_session(), _lang(), q.start, days=SEARCH_DAYS,
                                    **({"pincode": q.pincode} if q.by == "pincode"
                                       else {"district_id": q.district}))
            vaccines = service.vaccines_in(found)
            centres = search.filter_centres(found, q.filters())
    states = _divisions(None, 1)
    districts = _divisions(q.state, 2) if q.state is not None else []
    back = request.full_path
    return render_template(
        "portal/search.html", q=q, centres=centres, vaccines=vaccines, states=states,
        districts=districts, chosen=chosen, moving=moving, today=today,
        days=[q.start + dt.timedelta(days=i) for i in range(SEARCH_DAYS)],
        book_form=forms.BookForm(), back=back,
        postal_example=dep.profile["postal_code_example"],
        session_date=lambda text: dt.datetime.strptime(text, "%d-%m-%Y").date(),
        slot_times=_slot_times, logged_in=g.account is not None,
        currency=dep.profile["currency"],
        postal_codes=bool(dep.profile["postal_code_example"]),
        dose_numbers=range(1, (db_session().scalar(select(func.max(DoseRule.dose_number)))
                               or 1) + 1),
        level_names=(_level_name(0, gettext("State or region")),
                     _level_name(1, gettext("District"))),
        open_slots=lambda s: _open_slots(s, today, _now().time()),
        day_label=lambda day: format_skeleton("MMMEd", day, locale=_lang()),
    ), 400 if q.errors else 200


def _level_name(index: int, generic: str) -> str:
    """The profile's name of a level of divisions (Departamento, Provincia…) in the
    reader's language, or the generic label when the profile has none in it."""
    profile = deployment().profile
    levels = profile["admin_levels"]
    if index >= len(levels):
        return generic
    lang = _lang()
    if lang == profile.default_language:
        return levels[index]["name"]
    return (levels[index].get("names") or {}).get(lang) or generic


def _open_slots(s: dict, today: dt.date, now: dt.time) -> list[str]:
    """A session's slots that can still be booked: today's that have ended are left out."""
    if s["date"] != today.strftime("%d-%m-%Y"):
        return s["slots"]
    return [text for text in s["slots"] if _slot_times(text)[1] > now]


def _slot_times(text: str) -> tuple[dt.time, dt.time]:
    """Co-WIN's "09:00AM-11:00AM" back into times, to show them in the reader's format."""
    start, _, end = text.partition("-")
    return (dt.datetime.strptime(start, "%I:%M%p").time(),
            dt.datetime.strptime(end, "%I:%M%p").time())


# --- booking -------------------------------------------------------------------------------

def _session_slot_choices(session_id: str) -> list[tuple[str, str]]:
    vs = db_session().get(VaccinationSession, session_id) if re.fullmatch(
        r"[0-9a-f-]{36}", session_id or "") else None
    # The values the search page offers: Co-WIN's slot text, which booking understands.
    return [(f"{s.starts:%I:%M%p}-{s.ends:%I:%M%p}", "") for s in vs.slots] if vs else []


def _next_dose(people, session_id: str) -> int | None:
    """The one dose every chosen person needs next in the session's programme; None when
    they differ (book them separately)."""
    vs = db_session().get(VaccinationSession, session_id)
    if vs is None:
        return 1  # the booking service answers "no such session"
    programme_id = db_session().get(Product, vs.product_id).programme_id
    doses = {len(booking.dose_history(db_session(), p.id, programme_id)) + 1 for p in people}
    return doses.pop() if len(doses) == 1 else None


@bp.post("/book")
@login_required
def book():
    form = forms.BookForm()
    form.slot.choices = _session_slot_choices(form.session_id.data)
    back = _safe_next(request.form.get("back"), url_for("portal.search_page"))
    if _csrf_failed(form):
        return redirect(back)
    if not form.validate():
        flash(gettext("Choose a time."), "error")
        return redirect(back)
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
                                dose=dose, today=_now().date(), now=_now().time())
    except booking.BookingError as exc:
        db_session().rollback()
        flash(_say(exc), "error")
        return redirect(back)
    db_session().commit()
    flash(ngettext_people(len(made)), "success")
    return redirect(url_for("portal.appointment", appointment_id=made[0].id))


def ngettext_people(count: int) -> str:
    from flask_babel import ngettext

    return ngettext("The appointment is booked.", "%(num)s appointments are booked.", count)


@bp.post("/appointments/<appointment_id>/reschedule")
@login_required
def reschedule(appointment_id):
    form = forms.BookForm()
    form.slot.choices = _session_slot_choices(form.session_id.data)
    back = _safe_next(request.form.get("back"), url_for("portal.family"))
    if _csrf_failed(form):
        return redirect(back)
    if not form.validate():
        flash(gettext("Choose a time."), "error")
        return redirect(back)
    try:
        booking.reschedule(db_session(), account_id=g.account.id, appointment_id=appointment_id,
                           session_id=form.session_id.data, slot=form.slot.data,
                           today=_now().date(), now=_now().time(),
                           max_reschedules=deployment().settings["MAX_RESCHEDULES"])
    except booking.BookingError as exc:
        db_session().rollback()
        if isinstance(exc, booking.NotFound) and exc.field == "appointment_id":
            abort(404)
        flash(_say(exc), "error")
        return redirect(back)
    db_session().commit()
    flash(gettext("The appointment is moved."), "success")
    return redirect(url_for("portal.appointment", appointment_id=appointment_id))


def _own_appointment(appointment_id: str) -> Appointment:
    from cowin_kit.registration.models import Beneficiary

    if not re.fullmatch(r"[0-9a-f-]{36}", appointment_id):
        abort(404)
    found = db_session().scalar(select(Appointment).join(Beneficiary).where(
        Appointment.id == appointment_id, Beneficiary.account_id == g.account.id))
    if found is None:
        abort(404)
    return found


@bp.route("/appointments/<appointment_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(appointment_id):
    appointment = _own_appointment(appointment_id)
    form = forms.ConfirmForm()
    if not _csrf_failed(form) and form.validate_on_submit():
        try:
            booking.cancel(db_session(), account_id=g.account.id,
                           appointment_ids=[appointment.id], today=_now().date())
        except booking.BookingError as exc:
            db_session().rollback()
            flash(_say(exc), "error")
        else:
            db_session().commit()
            flash(gettext("The appointment is cancelled; the place is free for someone else."),
                  "success")
        return redirect(url_for("portal.family"))
    data = slip.slip_data(db_session(), appointment)
    return render_template("portal/cancel.html", slip=data, form=form,
                           past=data["date"] < _now().date(),
                           centre=data["centre_names"].get(_lang()) or data["centre_name"])


@bp.get("/appointments/<appointment_id>")
@login_required
def appointment(appointment_id):
    found = _own_appointment(appointment_id)
    data = slip.slip_data(db_session(), found)
    return render_template("portal/appointment.html", slip=data, lang=_lang(),
                           qr_svg=slip.qr_svg(data["appointment_id"]),
                           centre=data["centre_names"].get(_lang()) or data["centre_name"])


@bp.get("/appointments/<appointment_id>/slip.pdf")
@login_required
def appointment_pdf(appointment_id):
    found = _own_appointment(appointment_id)
    data = slip.slip_data(db_session(), found)
    lang = _lang()
    with force_locale(lang):
        pdf = slip.cached_pdf(data, lang, get_translations())
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="appointment-slip-{found.id}.pdf"'})

