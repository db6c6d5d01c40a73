"""Pages read right on a phone in Spanish and Arabic (issue 16, item 9), in Debian's Chromium:
times in order, the slip's values aligned with their labels, the ministry named, the skip link
shown only to the keyboard, and every control at least 44 px. Screenshots go to
$COWIN_KIT_SCREENSHOTS."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_reads_right import _book

from cowin_kit.testing import last_otp

PHONE = {"width": 360, "height": 780}
MIN = 44 - 0.5  # CSS pixels; half a pixel for rounding

CONTROLS = ("button:visible, select:visible, textarea:visible, .button:visible, "
            "input:visible:not([type=hidden]):not([type=checkbox]):not([type=radio]), "
            ".site-nav a:visible, .portal-nav a:visible, .site-header a.brand, "
            ".actions a:visible, .option:visible, .slot:visible")


@pytest.fixture
def cowin_kit_config():
    return {"LANGUAGES": ["es", "en", "ar"]}


def _small_controls(page) -> list[tuple[str, float, float]]:
    small = []
    for handle in page.locator(CONTROLS).element_handles():
        box = handle.bounding_box()
        if box is None:
            continue
        if box["height"] < MIN or box["width"] < MIN:
            small.append((handle.evaluate("e => e.outerHTML.slice(0, 80)"), box["width"],
                          box["height"]))
    return small


def _check_page(page, shots, name):
    page.screenshot(path=str(shots / f"reads-right-{name}.png"), full_page=True)
    assert not _small_controls(page), (name, _small_controls(page))


@pytest.mark.parametrize("lang,direction", [("es", "ltr"), ("ar", "rtl")])
def test_pages_read_right_on_a_phone(browser, live_url, shots, app, database,
                                     cowin_kit_instance, lang, direction):
    appointment_id = _book(app, database)
    page = browser.new_page(viewport=PHONE, locale=lang)
    page.goto(f"{live_url}/portal/login?lang={lang}")
    assert page.locator("html").get_attribute("dir") == direction

    # The skip link: out of sight, until the keyboard reaches it.
    skip = page.locator(".skip-link")
    box = skip.bounding_box()
    assert box["width"] <= 1 and box["height"] <= 1, box
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box["width"] > 44 and box["height"] >= MIN, box
    assert 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], box
    page.screenshot(path=str(shots / f"reads-right-skip-{lang}.png"))
    page.keyboard.press("Tab")
    box = skip.bounding_box()
    assert box["width"] <= 1, box

    # The header names the ministry.
    expect(page.locator(".site-header .ministry")).to_have_text(
        "Ministerio de Salud del Perú (MINSA)")
    _check_page(page, shots, f"login-{lang}")

    page.locator("#mobile").fill("987654321")
    page.locator("#mobile").press("Enter")
    page.wait_for_url("**/portal/login/code")
    page.locator("#code").fill(last_otp(cowin_kit_instance))
    page.locator("#code").press("Enter")
    page.wait_for_url("**/portal/")
    _check_page(page, shots, f"family-{lang}")

    # Each time of a range is isolated: in Arabic the earlier time stands on the right.
    times = page.locator(".appointment .time-range bdi")
    expect(times).to_have_count(2)
    first, second = times.nth(0).bounding_box(), times.nth(1).bounding_box()
    if direction == "rtl":
        assert first["x"] > second["x"], (first, second)
        assert "م" in times.nth(0).inner_text() or "ص" in times.nth(0).inner_text()
    else:
        assert first["x"] < second["x"], (first, second)

    page.goto(f"{live_url}/portal/appointments/{appointment_id}?lang={lang}")
    expect(page.locator(".slip-issuer")).to_have_text("Ministerio de Salud del Perú (MINSA)")
    # Each left-to-right value sits on the same side as its label.
    for cls in ("slip-slot", "slip-date", "slip-id"):
        label = page.locator(f".slip-facts div:has(dd.{cls}) dt").bounding_box()
        value = page.locator(f"dd.{cls} bdi").bounding_box()
        if direction == "rtl":
            assert abs((label["x"] + label["width"]) - (value["x"] + value["width"])) < 2, cls
        else:
            assert abs(label["x"] - value["x"]) < 2, cls
    _check_page(page, shots, f"slip-{lang}")

    page.goto(f"{live_url}/portal/search?lang={lang}")
    _check_page(page, shots, f"search-{lang}")
    page.close()
