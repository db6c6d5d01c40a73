"""The certificate on a 360px phone, in a real browser (Debian's Chromium): the family page
with its downloads, the printable page and the travel QR code, in Spanish (Peru), Hindi
(India) and Arabic (United Arab Emirates, right to left); and the PDF's first page rendered
to an image (pypdfium2). Screenshots go to $COWIN_KIT_SCREENSHOTS: look at them."""
import pytest
from playwright.sync_api import expect

from cowin_kit.testing import last_otp

from helpers import add_centre, certify, register_person

PHONE = {"width": 360, "height": 780}
CASES = [  # country, language, the mobile number as typed, as stored, the person's name
    ("PE", "es", "987 654 321", "+51987654321", "María José Quispe Ñahui", None),
    ("IN", "hi", "98765 43210", "+919876543210", "अनीता शर्मा", None),
    ("AE", "ar", "50 123 4567", "+971501234567", "فاطمة محمد الهاشمي",
     ("CERT-AE-1", "مركز الصفا الصحي", {"en": "Al Safa Health Centre"})),
]


def _axe(page, name):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"]]
    assert not problems, (name, problems)


def _fits(page, name):
    """Nothing wider than the phone: no sideways scrolling."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], (name, width)


@pytest.mark.parametrize(("cowin_kit_country", "lang", "typed", "mobile", "name", "centre"),
                         CASES)
def test_certificate_on_a_phone(browser, live_url, shots, app, database, cowin_kit_instance,
                                cowin_kit_country, lang, typed, mobile, name, centre):
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{live_url}/portal/login?lang={lang}")
    page.locator("#mobile").fill(typed)
    page.locator("#mobile").press("Enter")
    page.wait_for_url("**/portal/login/code")
    page.locator("#code").fill(last_otp(cowin_kit_instance))
    page.locator("button[type=submit].primary").click()
    page.wait_for_url("**/portal/")

    ref = register_person(app, database, mobile, name=name, language=lang)
    code = add_centre(database, *centre) if centre else None
    certify(app, database, ref, days_ago=60, facility_code=code)
    certify(app, database, ref, number=2, days_ago=20, facility_code=code)
    tag = f"{cowin_kit_country}-{lang}"

    page.goto(f"{live_url}/portal/")
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    expect(page.locator(f"a[href$='/certificates/{ref}/pdf']")).to_be_visible()
    page.screenshot(path=str(shots / f"certificate-family-{tag}.png"), full_page=True)
    _fits(page, "family")
    _axe(page, "family")

    page.goto(f"{live_url}/portal/certificates/{ref}/html")
    article = page.locator("article.cert-doc")
    assert article.get_attribute("lang") == lang
    assert article.get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    text = article.inner_text()
    assert name in text and "Name" in text and "Vaccination certificate" in text
    expect(page.locator(".cert-qr svg")).to_be_visible()
    page.screenshot(path=str(shots / f"certificate-page-{tag}.png"), full_page=True)
    _fits(page, "printable page")
    _axe(page, "printable page")

    page.goto(f"{live_url}/portal/certificates/{ref}/qr")
    box = page.locator(".qr-big svg").bounding_box()
    assert box["width"] >= 300  # big enough for a scanner at a border
    page.screenshot(path=str(shots / f"certificate-qr-{tag}.png"), full_page=True)
    _fits(page, "QR page")
    _axe(page, "QR page")

    pdf = page.request.get(f"{live_url}/portal/certificates/{ref}/pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    pdfium = pytest.importorskip("pypdfium2")
    document = pdfium.PdfDocument(pdf.body())
    for number, pdf_page in enumerate(document, start=1):
        pdf_page.render(scale=1.6).to_pil().save(shots / f"certificate-pdf-{tag}-{number}.png")
    assert len(document) == 1  # one A4 page
    page.close()
