"""Pages in a real browser (Debian's Chromium driven by Playwright).

Screenshots go to $COWIN_KIT_SCREENSHOTS when set (look at them), else to a temporary folder.
Without Chromium the tests are skipped locally; in CI (CI=true) that is a failure.
"""

import pytest


@pytest.mark.parametrize("cowin_kit_country,lang,direction,heading", [
    ("PE", "es", "ltr", "Perú"),
    ("PE", "en", "ltr", "COVID-19 vaccination in Peru"),
    ("AE", "ar", "rtl", "الإمارات"),
    ("IN", "hi", "ltr", "भारत"),
])
def test_home_page_renders_in_language_and_direction(browser, live_url, shots, cowin_kit_country,
                                                     lang, direction, heading):
    page = browser.new_page(viewport={"width": 1024, "height": 768}, locale=lang)
    page.goto(f"{live_url}/?lang={lang}")
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("html").get_attribute("dir") == direction
    assert heading in page.locator("h1").inner_text()
    brand = page.locator(".brand").bounding_box()
    switch = page.locator(".lang-switch").bounding_box()
    if direction == "rtl":  # mirrored: the brand sits at the right, the switcher at the left
        assert brand["x"] > switch["x"]
    else:
        assert brand["x"] < switch["x"]
    page.screenshot(path=str(shots / f"home-{cowin_kit_country}-{lang}-desktop.png"))
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.screenshot(path=str(shots / f"home-{cowin_kit_country}-{lang}-phone.png"), full_page=True)
    page.close()


def test_language_switcher_changes_the_page(browser, live_url):
    page = browser.new_page(locale="es")
    page.goto(live_url)
    assert page.locator("html").get_attribute("lang") == "es"
    page.select_option("#lang-select", "en")
    assert page.locator("html").get_attribute("lang") == "es"  # choosing does not reload
    page.locator(".lang-switch button").click()  # (WCAG 3.2.2: a change of context on request)
    page.wait_for_url("**/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(live_url)  # the cookie keeps the choice
    assert page.locator("html").get_attribute("lang") == "en"
    page.close()


@pytest.mark.parametrize("cowin_kit_country,lang,direction,title", [
    ("PE", "es", "ltr", "Página no encontrada"),
    ("AE", "ar", "rtl", "الصفحة غير موجودة"),
])
def test_error_page_renders_in_language_and_direction(browser, live_url, shots,
                                                      cowin_kit_country, lang, direction, title):
    page = browser.new_page(viewport={"width": 390, "height": 700}, locale=lang)
    response = page.goto(f"{live_url}/no-such-page?lang={lang}")
    assert response.status == 404
    assert page.locator("html").get_attribute("dir") == direction
    assert page.locator("h1").inner_text() == title
    page.screenshot(path=str(shots / f"error-404-{cowin_kit_country}-{lang}.png"))
    page.close()
