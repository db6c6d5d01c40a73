"""The home page and the health check."""
import pytest
from sqlalchemy.exc import OperationalError


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "country": "PE"}


def test_healthz_is_503_when_the_database_is_down(app, client, monkeypatch):
    def broken():
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(app.extensions["cowin_kit"].db, "ping", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_home_page_in_english(client):
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page
    assert "COVID-19 vaccination in Peru" in page
    assert "Comirnaty (Pfizer-BioNTech)" in page
    assert "National identity document (DNI)" in page  # the profile's English name
    assert "demonstration data" in page  # demo centres are labelled as such


def test_home_page_in_the_profiles_default_language(client):
    page = client.get("/").get_data(as_text=True)  # no Accept-Language: profile default
    assert '<html lang="es" dir="ltr">' in page
    assert "Perú" in page
    assert "Documento Nacional de Identidad (DNI)" in page
    assert "Vacunas disponibles" in page or "Vacunas ofrecidas" in page


def test_language_choice_is_remembered_in_a_cookie(client):
    response = client.get("/?lang=en", headers={"Accept-Language": "es"})
    assert 'lang="en"' in response.get_data(as_text=True)
    assert "lang=en" in response.headers.get("Set-Cookie", "")
    page = client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="en"' in page


def test_unknown_language_falls_back_cleanly(client):
    response = client.get("/?lang=xx-YY", headers={"Accept-Language": "zz, tlh;q=0.5"})
    assert response.status_code == 200
    assert '<html lang="es"' in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers or "lang=" not in response.headers["Set-Cookie"]


def test_language_switcher_offers_profile_languages_with_catalogues(client):
    page = client.get("/").get_data(as_text=True)
    assert '<option value="es"' in page and '<option value="en"' in page
    assert "español" in page and "English" in page


@pytest.mark.parametrize("cowin_kit_country", ["AE"])
def test_arabic_home_page_is_right_to_left(client, cowin_kit_country):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "الإمارات" in page


@pytest.mark.parametrize("cowin_kit_country", ["AE", "AZ", "CA", "DO", "IN", "IQ", "MX", "NG",
                                               "PA", "PE", "UA", "UG", "VN"])
def test_every_profile_renders_in_its_default_language_and_english(client, app,
                                                                   cowin_kit_country):
    from cowin_kit.i18n import country_name

    profile = app.extensions["cowin_kit"].profile
    lang = profile.default_language
    page = client.get("/").get_data(as_text=True)
    assert f'<html lang="{lang}"' in page
    assert country_name(cowin_kit_country, lang) in page
    page = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en"' in page and country_name(cowin_kit_country, "en") in page


def test_unknown_page_is_a_localised_404(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "es"})
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert '<html lang="es"' in page and "Página no encontrada" in page


def test_wrong_method_is_405_not_500(client):
    response = client.post("/healthz")
    assert response.status_code == 405


def test_server_error_is_a_page_without_details(app, client, monkeypatch):
    from cowin_kit.web import service

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(service, "deployment_overview", boom)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page and "secret internals" not in page
