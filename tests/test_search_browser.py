"""The portal's search at a country's size in a real browser (Chromium, phone-sized): a page
of centres at a time, the lists down to the lowest division, and "near me" with and
without the browser's location. Screenshots go to $COWIN_KIT_SCREENSHOTS."""
from playwright.sync_api import expect
from test_portal_browser import PHONE, _shot
from test_search_scale import DAY, many  # noqa: F401 (a fixture)


def test_results_come_a_page_at_a_time_down_to_the_distrito(browser, live_url, shots, many):  # noqa: F811
    page = browser.new_page(viewport=PHONE, locale="en-GB")
    page.goto(f"{live_url}/portal/search?lang=en&date={DAY.isoformat()}")
    page.get_by_label("Department").select_option(label="Metropolitan Lima")
    page.get_by_role("button", name="Search").click()
    page.get_by_label("Province").select_option(label="Lima")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("article.centre")).to_have_count(20)
    pager = page.get_by_role("navigation", name="Pages").first
    expect(pager).to_contain_text("Page 1 of 3")
    _shot(page, shots, "search-page-1")
    pager.get_by_role("link", name="Next").click()
    expect(page.get_by_role("navigation", name="Pages").first).to_contain_text("Page 2 of 3")
    expect(page.locator("article.centre")).to_have_count(20)
    page.get_by_label("District", exact=True).select_option(label="Santiago de Surco")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results-title")).to_contain_text("centres with sessions")
    assert page.locator("article.centre").count() in (15, 16)  # and the demo's, if it has one
    expect(page.get_by_role("navigation", name="Pages")).to_have_count(0)
    _shot(page, shots, "search-distrito")


def test_near_me_with_and_without_the_browsers_location(browser, live_url, shots, many):  # noqa: F811
    context = browser.new_context(viewport=PHONE, locale="en-GB", permissions=["geolocation"],
                                  geolocation={"latitude": -12.1301, "longitude": -77.0299})
    page = context.new_page()
    page.goto(f"{live_url}/portal/search?lang=en&date={DAY.isoformat()}")
    page.get_by_role("button", name="Find centres near me").click()
    page.wait_for_url("**by=near**")
    assert "lat=-12.130" in page.url and "long=-77.030" in page.url
    expect(page.locator("#results-title")).to_contain_text("centres with sessions")
    expect(page.locator("article.centre").first).to_contain_text("Centro 000")
    expect(page.locator("article.centre").first).to_contain_text("0 km away")
    _shot(page, shots, "search-near-me")
    context.close()

    refused = browser.new_context(viewport=PHONE, locale="en-GB")  # no permission given
    page = refused.new_page()
    page.goto(f"{live_url}/portal/search?lang=en")
    page.get_by_role("button", name="Find centres near me").click()
    expect(page.locator("[data-near-status]")).to_contain_text("could not get your location")
    expect(page.locator("#pincode")).to_be_focused()  # the fallback: type a postal code
    _shot(page, shots, "search-near-me-refused")
    page.locator("#pincode").fill("15074")
    page.locator("#pincode").press("Enter")
    expect(page.locator("article.centre").first).to_be_visible()
    refused.close()


def test_without_a_script_there_is_no_near_me_button(browser, live_url, many):  # noqa: F811
    context = browser.new_context(viewport=PHONE, locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_url}/portal/search?lang=en")
    expect(page.get_by_role("button", name="Find centres near me")).to_be_hidden()
    page.get_by_label("Department").select_option(label="Metropolitan Lima")
    page.get_by_role("button", name="Search").click()
    page.get_by_label("Province").select_option(label="Lima")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("article.centre")).to_have_count(20)
    page.get_by_role("navigation", name="Pages").first.get_by_role("link", name="Next").click()
    expect(page.get_by_role("navigation", name="Pages").first).to_contain_text("Page 2 of")
    context.close()
