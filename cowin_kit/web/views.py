"""Routes only: the public home page and /healthz."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_babel import get_locale
from sqlalchemy.exc import SQLAlchemyError

from cowin_kit.app import db_session, deployment
from cowin_kit.web import service

bp = Blueprint("web", __name__)


@bp.get("/")
def home():
    dep = deployment()
    lang = str(get_locale())
    overview = service.deployment_overview(db_session(), dep.profile, lang, dep.languages)
    return render_template("home.html", o=overview)


@bp.get("/healthz")
def healthz():
    """For load balancers and monitoring: 200 when the database answers, else 503."""
    try:
        deployment().db.ping()
    except SQLAlchemyError as exc:
        return jsonify({"status": "error", "database": "unreachable",
                        "error": type(exc).__name__}), 503
    return jsonify({"status": "ok", "database": "ok",
                    "country": deployment().profile.code})
