"""Languages: flask-babel wiring, locale choice, and names of languages and countries."""
from __future__ import annotations

from functools import lru_cache

import pycountry
from babel import Locale, UnknownLocaleError, negotiate_locale
from flask import Flask, g, request
from flask_babel import Babel, get_locale
from markupsafe import Markup

from cowin_kit.paths import locales_dir
from cowin_kit.runtime import deployment

LANG_COOKIE = "lang"
LANG_PARAM = "lang"


def available_languages(preferred: list[str], configured: list[str] | None = None) -> list[str]:
    """Languages offered on pages.

    The operator's LANGUAGES setting if given (each needs a compiled catalogue); else the
    profile's languages plus English, each when its catalogue is complete or translates
    at least OFFER_MIN_PERCENT of the messages, so nobody gets a page half in English.
    English is the source language and always offered.
    """
    from cowin_kit.catalogues import (
        OFFER_MIN_PERCENT,
        babel_knows,
        compiled_coverage,
        complete_languages,
    )

    locales = locales_dir()
    complete = set(complete_languages(locales))
    out = []
    for lang in list(configured or []) or [*preferred, "en"]:
        if lang in out or not babel_knows(lang):  # pages need CLDR data for the language
            continue
        if lang == "en" or lang in complete:
            out.append(lang)
            continue
        coverage = compiled_coverage(locales, lang)
        if coverage >= OFFER_MIN_PERCENT or (configured and coverage > 0):
            out.append(lang)
    return out or ["en"]


def select_locale() -> str:
    """The user's choice (?lang=, then the cookie), else the browser's languages in their
    order of preference — "ar-AE" matches "ar" before a lower-ranked exact "en" —, else the
    deployment's default.

    The API ignores the cookie: its answers then depend only on the URL and
    Accept-Language, so a shared cache (a CDN, nginx) keeps one copy per language instead
    of one per visitor's cookies (``Vary: Cookie``)."""
    dep = deployment()
    offered = dep.languages
    chosen_by = [request.args.get(LANG_PARAM)]
    if not request.path.startswith("/api/"):
        chosen_by.append(request.cookies.get(LANG_COOKIE))
    for raw in chosen_by:
        chosen = (raw or "").replace("-", "_")
        if chosen in offered:
            g.lang_chosen = chosen
            return chosen
    preferred = [tag for tag, _q in request.accept_languages]  # sorted by quality
    best = negotiate_locale([t.replace("_", "-") for t in preferred],
                            [o.replace("_", "-") for o in offered], sep="-")
    return best.replace("-", "_") if best else dep.default_language


def select_timezone() -> str:
    return deployment().timezone


def init_app(app: Flask, plugin_dirs: list | None = None) -> None:
    # flask-babel merges these in order, later ones winning: plugins first, the core last.
    dirs = [*(plugin_dirs or []), locales_dir()]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(d) for d in dirs)
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)

    @app.after_request
    def _remember_language(response):
        chosen = getattr(g, "lang_chosen", None)
        if chosen and request.args.get(LANG_PARAM) and request.cookies.get(LANG_COOKIE) != chosen:
            response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax",
                                secure=app.config.get("SESSION_COOKIE_SECURE", False))
        return response

    @app.context_processor
    def _language_context():
        lang = str(get_locale() or "en")
        dep = deployment()
        offered = dep.languages
        return {"current_lang": lang, "html_lang": lang.replace("_", "-"),
                "text_direction": text_direction(lang),
                "site_languages": [(code, language_name(code)) for code in offered],
                "ministry_name": ministry_name(dep.profile, lang),
                "time_range": time_range}


FSI, PDI = "\u2068", "\u2069"  # FIRST STRONG ISOLATE, POP DIRECTIONAL ISOLATE


def isolate(text: str) -> str:
    """``text`` between Unicode isolates, for plain text (SMS, e-mail, PDF) where no HTML
    ``<bdi>`` can keep a time such as "2:00 م" from reordering the text around it.

    >>> isolate("2:00 م") == "\u20682:00 م\u2069"
    True
    """
    return f"{FSI}{text}{PDI}"


def time_range(starts, ends, format: str = "short") -> Markup:
    """A range of times as HTML, each time in its own ``<bdi>``: in Arabic "2:00 م–4:00 م"
    would otherwise be laid out as "م–4:00 م 2:00", the letters of one time pulled across
    the dash into the other. Each isolated time takes its own direction; the page's
    direction orders the two (the earlier one first, on the right in Arabic)."""
    from flask_babel import format_time

    return Markup('<span class="time-range"><bdi>{}</bdi>\u2013<bdi>{}</bdi></span>').format(
        format_time(starts, format), format_time(ends, format))


def ministry_name(profile, lang: str) -> str:
    """The authority that runs the drive and issues its certificates, in ``lang``."""
    from cowin_kit.registration.choices import local_name

    cert = profile["certificate"]
    return local_name(cert["issuer"], cert.get("issuer_names"), lang, profile.default_language)


@lru_cache(maxsize=256)
def language_name(code: str, in_lang: str | None = None) -> str:
    """The name of language ``code`` in ``in_lang`` (default: in itself), e.g. es → español."""
    try:
        name = Locale.parse(code).get_display_name(in_lang or code)
        if name:
            return name
    except (UnknownLocaleError, ValueError):
        pass
    lang = pycountry.languages.get(alpha_2=code) or pycountry.languages.get(alpha_3=code)
    return lang.name if lang else code


def text_direction(lang: str) -> str:
    try:
        return Locale.parse(lang).text_direction
    except (UnknownLocaleError, ValueError):
        return "ltr"


@lru_cache(maxsize=256)
def country_name(code: str, lang: str) -> str:
    try:
        name = Locale.parse(lang).territories.get(code)
        if name:
            return name
    except (UnknownLocaleError, ValueError):
        pass
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code
