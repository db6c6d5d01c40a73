"""The OpenAPI document (/api/openapi.json) and the readable API page (/api)."""
from __future__ import annotations

import pytest

from cowin_kit.api import openapi


@pytest.fixture
def docs_app(app):
    # Until cowin_kit.app registers it, the docs blueprint is added here.
    if "api_docs" not in app.blueprints:
        app.register_blueprint(openapi.bp)
    return app


@pytest.fixture
def doc(docs_app):
    response = docs_app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "max-age" in response.headers["Cache-Control"]
    return response.get_json()


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_document_is_openapi_3(doc):
    assert doc["openapi"].startswith("3.0.") or doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["servers"] == [{"url": "/"}]  # relative: never the request's Host header
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {"type": "http",
                                                                  "scheme": "bearer"}
    assert set(doc["components"]["schemas"]["Error"]["properties"]) == {"errorCode", "error"}


def test_every_api_route_is_in_the_document(docs_app, doc):
    routes = openapi.api_routes(docs_app)
    assert len(routes) >= 25
    for rule, method, _endpoint in routes:
        path = openapi.openapi_path(rule)
        assert path in doc["paths"], path
        operation = doc["paths"][path][method.lower()]
        assert operation["summary"] and operation["responses"]
    assert "/api/v2/admin/location/districts/{state_id}" in doc["paths"]
    district = doc["paths"]["/api/v2/admin/location/districts/{state_id}"]["get"]
    assert district["parameters"][0] == {"in": "path", "name": "state_id", "required": True,
                                         "schema": {"type": "integer", "minimum": 1,
                                                    "maximum": 2 ** 31 - 1}}


def test_every_reference_resolves(doc):
    refs = set(_refs(doc))
    assert "#/components/schemas/Error" in refs or "#/components/responses/E400" in refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        node = doc
        for part in ref[2:].split("/"):
            assert part in node, ref
            node = node[part]


def test_errors_use_the_error_schema(doc):
    for status, response in doc["components"]["responses"].items():
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}, status
    find = doc["paths"]["/api/v2/appointment/sessions/public/findByDistrict"]["get"]
    assert {"400", "404"} <= set(find["responses"])
    names = {p["name"] for p in find["parameters"]}
    assert names == {"district_id", "date", "block_id", "vaccine", "min_age_limit", "dose",
                     "fee_type"}
    required = {p["name"] for p in find["parameters"] if p.get("required")}
    assert required == {"district_id", "date"}
    otp = doc["paths"]["/api/v2/auth/public/generateOTP"]["post"]
    assert "429" in otp["responses"]
    body = otp["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert "mobile" in doc["components"]["schemas"][body.rsplit("/", 1)[-1]]["properties"]


def test_logged_in_routes_need_the_bearer_token(doc):
    logged_in = ["/api/v2/appointment/beneficiaries", "/api/v2/appointment/schedule",
                 "/api/v2/appointment/sessions/findByPin", "/api/v2/registration/beneficiary/new"]
    for path in logged_in:
        for operation in doc["paths"][path].values():
            assert operation["security"] == [{"bearerAuth": []}], path
            assert "401" in operation["responses"], path
    public = doc["paths"]["/api/v2/appointment/sessions/public/findByPin"]["get"]
    assert "security" not in public


def test_session_answers_are_flat_with_coWIN_names(doc):
    session = doc["components"]["schemas"]["Session"]["properties"]
    for name in ("center_id", "name", "pincode", "from", "to", "fee_type", "session_id",
                 "date", "available_capacity", "available_capacity_dose1", "min_age_limit",
                 "vaccine", "slots"):
        assert name in session, name


def test_every_api_route_has_a_spec_entry(docs_app):
    assert openapi.undocumented_routes(docs_app) == []


def test_a_new_route_without_a_spec_entry_is_caught(app):
    app.add_url_rule("/api/v2/appointment/brandNew", "brand_new", lambda: "")
    assert openapi.undocumented_routes(app) == [("/api/v2/appointment/brandNew", "GET",
                                                 "brand_new")]


def test_the_document_is_cached_per_process(docs_app):
    assert openapi.cached_spec(docs_app) is openapi.cached_spec(docs_app)


def test_api_page_lists_the_endpoints(docs_app):
    response = docs_app.test_client().get("/api", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "findByDistrict" in html and "/api/v2/auth/public/generateOTP" in html
    assert "curl" in html and "Authorization: Bearer $TOKEN" in html
    assert "/api/openapi.json" in html
    assert html.index("Public endpoints") < html.index("Logging in") < html.index(
        "Logged-in endpoints")


@pytest.mark.parametrize("headers", [{"Host": "evil.example"},
                                     {"X-Forwarded-Host": "evil.example",
                                      "X-Forwarded-Proto": "https"}])
def test_a_forged_host_never_reaches_the_publicly_cached_document(cowin_kit_instance, headers):
    """The document is cached by shared caches for an hour: a Host header (or, behind a
    proxy, X-Forwarded-Host) chosen by an attacker must not become its server URL."""
    from cowin_kit.app import create_app

    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "PROXY_FIX_HOPS": 1})
    r = app.test_client().get("/api/openapi.json", headers=headers)
    assert r.status_code == 200 and r.headers["Cache-Control"].startswith("public")
    assert "evil.example" not in r.get_data(as_text=True)
    assert r.get_json()["servers"] == [{"url": "/"}]
    app.extensions["cowin_kit"].db.dispose()


def test_public_url_is_the_documents_server(cowin_kit_instance):
    from cowin_kit.app import create_app

    app = create_app({"INSTANCE_PATH": cowin_kit_instance,
                      "PUBLIC_URL": "https://vacunas.example.gob/"})
    r = app.test_client().get("/api/openapi.json", headers={"Host": "evil.example"})
    assert r.get_json()["servers"] == [{"url": "https://vacunas.example.gob"}]
    app.extensions["cowin_kit"].db.dispose()


def test_the_api_guide_never_serves_a_forged_host_to_others(cowin_kit_instance):
    """The guide's curl examples are absolute: PUBLIC_URL when set; without it the
    visitor's own Host, in an answer no shared cache may keep."""
    from cowin_kit.app import create_app

    app = create_app({"INSTANCE_PATH": cowin_kit_instance})
    r = app.test_client().get("/api", headers={"Host": "evil.example"})
    assert r.status_code == 200
    assert "private" in r.headers["Cache-Control"] and "Host" in r.headers["Vary"]
    app.extensions["cowin_kit"].db.dispose()
    app = create_app({"INSTANCE_PATH": cowin_kit_instance,
                      "PUBLIC_URL": "https://vacunas.example.gob/"})
    page = app.test_client().get("/api", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in page and "https://vacunas.example.gob/api/v2/" in page
    app.extensions["cowin_kit"].db.dispose()
