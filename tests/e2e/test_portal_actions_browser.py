"""The portal's action forms in headless Chromium: a new call, a call's story and reply, the password, the annex
report link; each with its errors (empty subject, too-long text, wrong password), and screenshots."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from playwright.sync_api import Page, expect

from shared.timeutil import today_budapest
from tests.e2e import test_portal_browser as portal
from tests.e2e.conftest import login
from tests.e2e.test_portal_browser import field, log_in, needs_chromium, open_view, screenshot
from tests.support import domain
from tests.support.events import customer_code

browser, page = portal.browser, portal.page  # the portal tests' own fixtures: Debian's Chromium, a fresh context
TODAY = today_budapest()
SIGNED = TODAY - timedelta(days=200)


@pytest.fixture
def customer(publish) -> tuple[str, str]:
    """A customer of their own per test: one program, one call waiting for them, one closed call."""
    code = customer_code()
    publish("contracts", [domain.contract_signed(code, SIGNED, SIGNED, [domain.item(f"{code}-1")], "Duna Bútor Kft.")])
    c, opened = domain.call_event, f"{(TODAY - timedelta(days=3)).isoformat()}T08:00:00Z"
    publish(
        "support-calls",
        [
            c(
                "opened",
                code,
                f"{code}-W",
                opened,
                category="bug_report",
                channel="phone",
                subject="Nem nyomtat a számlázó",
                description="A számla nyomtatásakor a program leáll.",
                serial_number=f"{code}-1",
            ),
            c("assigned", code, f"{code}-W", opened.replace("08:00", "08:10"), assignee="Kiss Anna"),
            c(
                "work_logged",
                code,
                f"{code}-W",
                opened.replace("08:00", "09:00"),
                work_id=f"{code}-WL",
                staff="Kiss Anna",
                minutes=20,
                description="Naplók átnézése",
                chargeable=True,
            ),
            c(
                "status_changed",
                code,
                f"{code}-W",
                opened.replace("08:00", "09:30"),
                status="waiting_for_customer",
                note="Milyen típusú nyomtatót használ?",
            ),
            c("opened", code, f"{code}-X", opened, category="help_request", channel="email", subject="Zárás"),
            c("closed", code, f"{code}-X", opened.replace("08:00", "10:00"), resolution="Megválaszolva"),
        ],
    )
    return code, f"{code}-1"


def ready(page: Page, view: str) -> None:
    expect(page.locator(f'#view[data-view="{view}"]:not([aria-busy])')).to_be_visible()


def logged_in(page: Page, gateway: str, customer: tuple[str, str]) -> None:
    log_in(page, gateway, customer)
    ready(page, "balance")


@needs_chromium
def test_new_call_form_refuses_bad_input_then_opens_the_call(page, gateway, customer):
    log_in(page, gateway, customer)
    open_view(page, "Eseménylista", "support")
    page.get_by_role("link", name="Új bejelentés").click()
    ready(page, "newcall")
    page.get_by_role("button", name="Bejelentés elküldése").click()
    expect(page.locator("#nc-category-error")).to_have_text("Kérjük, válasszon kategóriát.")
    expect(page.locator("#nc-subject-error")).to_have_text("Kérjük, adja meg a bejelentés tárgyát.")
    page.get_by_label("Kategória").select_option("bug_report")
    page.get_by_label("Tárgy").fill("x" * 201)
    page.get_by_role("button", name="Bejelentés elküldése").click()
    expect(page.locator("#nc-subject-error")).to_have_text("A tárgy legfeljebb 200 karakter lehet.")
    expect(page.locator("#nc-category-error")).to_be_hidden()
    screenshot(page, "new-call-errors")
    page.get_by_label("Tárgy").fill("A bérletkód nem érvényes")
    page.get_by_label("Leírás (nem kötelező)").fill("Frissítés után kéri újra a kódot.")
    page.get_by_label("Program (nem kötelező)").select_option(customer[1])
    page.get_by_role("button", name="Bejelentés elküldése").click()
    ready(page, "call")
    assert page.locator("#view h1").text_content().startswith("Bejelentés: WEB-")
    expect(page.locator(".message.success")).to_have_text("Bejelentését rögzítettük. Munkatársunk hamarosan felveszi.")
    assert field(page, "subject") == "A bérletkód nem érvényes"
    assert field(page, "status") == "Rögzítve"
    assert page.locator(".timeline .event-what").all_text_contents() == ["Bejelentés rögzítve"]
    call_id = page.locator("#view h1").text_content().removeprefix("Bejelentés: ")
    api = requests.get(f"{gateway}/api/v1/support-calls/{call_id}", headers=login(gateway, *customer), timeout=10)
    assert (api.json()["channel"], api.json()["serial_number"]) == ("portal", customer[1])
    screenshot(page, "new-call-done")


@needs_chromium
def test_call_page_shows_the_story_and_takes_a_reply_while_it_waits(page, gateway, customer):
    log_in(page, gateway, customer)
    open_view(page, "Eseménylista", "support")
    page.get_by_role("link", name=f"{customer[0]}-W").click()
    ready(page, "call")
    assert page.locator(".timeline .event-what").all_text_contents() == [
        "Bejelentés rögzítve",
        "Ügyintéző: Kiss Anna",
        "Munkavégzés: Kiss Anna, 20 perc (a perckeretet terheli)",
        "Állapot: Válaszára vár",
    ]
    assert page.locator(".timeline .event-detail").all_text_contents() == [
        "Naplók átnézése",
        "Milyen típusú nyomtatót használ?",
    ]
    assert field(page, "description") == "A számla nyomtatásakor a program leáll."
    expect(page.locator("form.reply.waiting")).to_be_visible()
    expect(page.locator(".reply-hint")).to_have_text("Ügyintézőnk az Ön válaszára vár.")
    screenshot(page, "call-waiting")
    page.get_by_role("button", name="Válasz küldése").click()
    expect(page.locator("#reply-message-error")).to_have_text("Kérjük, írja be a válaszát.")
    page.get_by_label("Válasza").fill("y" * 5001)
    page.get_by_role("button", name="Válasz küldése").click()
    expect(page.locator("#reply-message-error")).to_have_text("A válasz legfeljebb 5\u00a0000 karakter lehet.")
    page.get_by_label("Válasza").fill("HP LaserJet 1020, USB-n csatlakozik.")
    page.get_by_role("button", name="Válasz küldése").click()
    expect(page.locator(".message.success")).to_have_text("Válaszát elküldtük az ügyintézőnek.")
    assert page.locator(".timeline .event-what").all_text_contents()[-1] == "Az Ön válasza"
    assert page.locator(".timeline .event-detail").last.text_content() == "HP LaserJet 1020, USB-n csatlakozik."
    assert field(page, "status") == "Folyamatban"
    expect(page.locator("form.reply.waiting")).to_have_count(0)
    screenshot(page, "call-replied")


@needs_chromium
def test_a_closed_call_has_no_reply_box(page, gateway, customer):
    logged_in(page, gateway, customer)
    page.goto(f"{gateway}/#call/{customer[0]}-X")
    ready(page, "call")
    expect(page.locator("form.reply")).to_have_count(0)
    expect(page.locator("#view .message")).to_have_text(
        "A bejelentés lezárult. Ha a hiba újra jelentkezik, kérjük, nyisson új bejelentést."
    )
    assert page.locator(".timeline .event-detail").all_text_contents() == ["Megválaszolva"]


@needs_chromium
def test_password_set_with_errors_then_change_with_a_wrong_current_one(page, gateway, customer):
    log_in(page, gateway, customer)
    open_view(page, "Jelszó", "password")
    form = page.locator('form[data-form="password-set"]')
    form.get_by_label("Új jelszó", exact=True).fill("rövid")
    form.get_by_role("button", name="Jelszó mentése").click()
    expect(page.locator("#pw-new-error")).to_have_text("Az új jelszó legalább 10 karakter legyen.")
    form.get_by_label("Új jelszó", exact=True).fill(f"x{customer[0]}x")
    form.get_by_role("button", name="Jelszó mentése").click()
    expect(page.locator("#pw-new-error")).to_have_text("Az új jelszó nem tartalmazhatja az ügyfélkódot.")
    form.get_by_label("Új jelszó", exact=True).fill("Tavaszi-eső-2026")
    form.get_by_label("Új jelszó még egyszer").fill("Tavaszi-eso-2026")
    form.get_by_role("button", name="Jelszó mentése").click()
    expect(page.locator("#pw-again-error")).to_have_text("A két új jelszó nem egyezik.")
    screenshot(page, "password-errors")
    form.get_by_label("Új jelszó még egyszer").fill("Tavaszi-eső-2026")
    form.get_by_role("button", name="Jelszó mentése").click()
    expect(page.locator(".message.success")).to_have_text(
        "Az új jelszó érvényes. Más eszközökön újra be kell jelentkeznie.", timeout=15_000
    )
    assert (
        requests.post(
            f"{gateway}/api/v1/sessions", json={"customer_code": customer[0], "serial_number": customer[1]}, timeout=10
        ).status_code
        == 401
    )
    form = page.locator('form[data-form="password-set"]')  # the view was drawn again, still logged in
    form.get_by_label("Jelenlegi jelszó").fill("nem-ez-a-jelszó")
    form.get_by_label("Új jelszó", exact=True).fill("Nyári-zápor-2026")
    form.get_by_label("Új jelszó még egyszer").fill("Nyári-zápor-2026")
    form.get_by_role("button", name="Jelszó mentése").click()
    expect(page.locator("#pw-current-error")).to_have_text("A jelenlegi jelszó nem helyes.")
    assert page.locator("#login").is_hidden()  # a wrong current password does not end the session
    screenshot(page, "password")


@needs_chromium
def test_annex_report_link_opens_a_prefilled_call(page, gateway, customer):
    log_in(page, gateway, customer)
    open_view(page, "Szerződésmelléklet", "annex")
    report = page.locator("[data-field=annex-report]")
    expect(report).to_contain_text("Hiba a mellékletben?")
    report.get_by_role("link", name="Bejelentés nyitása").click()
    ready(page, "newcall")
    assert page.get_by_label("Tárgy").input_value() == "Hiba a szerződés mellékletében"
    assert page.get_by_label("Kategória").input_value() == "other"


@needs_chromium
def test_the_forms_in_english(page, gateway, customer):
    logged_in(page, gateway, customer)
    page.get_by_role("button", name="English").click()
    page.goto(f"{gateway}/#newcall")
    ready(page, "newcall")
    assert page.locator("#view h1").text_content() == "New support call"
    page.get_by_role("button", name="Send the call").click()
    expect(page.locator("#nc-subject-error")).to_have_text("Please enter a subject.")
    page.goto(f"{gateway}/#call/{customer[0]}-W")
    ready(page, "call")
    expect(page.locator(".reply-hint")).to_have_text("We are waiting for your reply.")
    assert page.locator(".timeline .event-what").first.text_content() == "Call recorded"


@needs_chromium
def test_annex_report_offers_the_vendors_address(page, gateway, customer):
    logged_in(page, gateway, customer)
    open_view(page, "Szerződésmelléklet", "annex")
    link = page.locator("[data-field=annex-report] a[href^='mailto:']")
    assert link.text_content() == "adminisztracio@szamado.hu"
    assert link.get_attribute("href") == "mailto:adminisztracio@szamado.hu"
    screenshot(page, "annex-report")


@needs_chromium
def test_the_action_views_fit_a_phone_and_work_from_the_keyboard(browser, gateway, customer):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    phone = context.new_page()
    try:
        logged_in(phone, gateway, customer)
        for address, view in ((f"#call/{customer[0]}-W", "call"), ("#newcall", "newcall"), ("#password", "password")):
            phone.goto(f"{gateway}/{address}")
            ready(phone, view)
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390, view
        phone.goto(f"{gateway}/#call/{customer[0]}-W")
        ready(phone, "call")
        screenshot(phone, "call-phone")
        phone.locator("#reply-message").focus()
        phone.keyboard.type("Billentyűzetről küldve.")
        phone.keyboard.press("Tab")
        assert phone.evaluate("document.activeElement.textContent") == "Válasz küldése"
        phone.keyboard.press("Enter")
        expect(phone.locator(".message.success")).to_have_text("Válaszát elküldtük az ügyintézőnek.")
    finally:
        context.close()
