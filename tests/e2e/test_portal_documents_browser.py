"""The portal's invoices, settlement sheet, bank details with the QR code, PDF downloads and date pickers,
in headless Chromium, in Hungarian and in English; page 1 of each PDF is rendered to PNG beside the screenshots."""

from __future__ import annotations

import re
import subprocess

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import test_portal_browser as base
from tests.e2e.test_portal_browser import (
    DAY,
    SCREENSHOTS,
    TODAY,
    api,
    column,
    field,
    hu_date,
    log_in,
    money,
    needs_chromium,
    open_view,
    screenshot,
)

# the browser tests' fixtures: the same two customers' data, Chromium, and a fresh page per test
browser, customers, page = base.browser, base.customers, base.page

# Words that must not appear on a Hungarian page (the API's English texts, or a value the page failed to format).
ENGLISH = re.compile(r"\b(Bank transfer|Storno|Refund|Invoice|Balance|Download|overdue|paid|null|undefined|NaN)\b")


def english(page: Page) -> None:
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def ready(page: Page, view: str) -> None:
    expect(page.locator(f'#view[data-view="{view}"]:not([aria-busy])')).to_be_visible()


def pdf_download(page: Page, label: str, name: str) -> bytes:
    """Click a download button; keep the PDF and page 1 as PNG beside the screenshots."""
    with page.expect_download() as download:
        page.get_by_role("button", name=label).first.click()
    path = download.value.path()
    body = path.read_bytes()
    assert body.startswith(b"%PDF-")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", path, str(SCREENSHOTS / f"pdf-{name}")],
        check=True,
    )
    return body


@needs_chromium
def test_invoices_view_with_badges_totals_and_filter(page, gateway, customers):
    log_in(page, gateway, customers["owing"])
    open_view(page, "Számlák", "invoices")
    body = api(gateway, customers["owing"], "invoices")
    assert column(page, "invoices", "invoice_number") == [i["invoice_number"] for i in body["invoices"]]
    badges = {"open": "nyitott", "overdue": "lejárt", "paid": "fizetve", "cancelled": "sztornózva"}
    assert column(page, "invoices", "status") == [badges[i["status"]] for i in body["invoices"]]
    assert {"lejárt", "nyitott", "sztornózva"} <= set(column(page, "invoices", "status"))
    assert column(page, "invoices", "open_amount") == [money(i["open_amount"]) for i in body["invoices"]]
    assert field(page, "open_amount") == money(body["totals"]["open_amount"])
    assert field(page, "overdue_amount") == money(body["totals"]["overdue_amount"])
    assert not ENGLISH.search(page.locator("main").inner_text())
    screenshot(page, "invoices")
    page.get_by_label("Állapot").select_option("overdue")
    page.get_by_role("button", name="Lekérdezés").click()
    ready(page, "invoices")
    expect(page.locator('table[data-table="invoices"] tbody tr')).to_have_count(1)
    assert column(page, "invoices", "status") == ["lejárt"]
    english(page)
    ready(page, "invoices")
    assert column(page, "invoices", "status") == ["overdue"]
    assert page.locator("#view h1").text_content() == "Invoices"


@needs_chromium
def test_balance_shows_bank_details_qr_and_downloads_the_pdf(page, gateway, customers):
    log_in(page, gateway, customers["owing"])
    ready(page, "balance")
    payment = api(gateway, customers["owing"], "balance")["payment"]
    assert field(page, "account_number") == payment["account_number"]
    assert field(page, "iban") == payment["iban"] and field(page, "bic") == payment["bic"]
    assert (
        field(page, "pay_amount") == money(payment["amount"]) and field(page, "pay_reference") == payment["reference"]
    )
    qr = page.locator("img[data-field=qr]")
    expect(qr).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    assert page.evaluate("document.querySelector('img[data-field=qr]').naturalWidth") > 100
    assert page.get_by_role("button", name=f"Másolás: {payment['iban']}").is_visible()
    descriptions = " ".join(column(page, "entries", "description"))
    assert "Banki átutalás, közlemény:" in descriptions and "Sztornó: " in descriptions
    assert not ENGLISH.search(page.locator("main").inner_text())
    screenshot(page, "balance-payment")
    pdf_download(page, "Letöltés PDF-ben", "balance")


@needs_chromium
def test_balance_as_of_a_past_day_with_the_date_picker(page, gateway, customers):
    log_in(page, gateway, customers["owing"])
    ready(page, "balance")
    earlier = TODAY - 30 * DAY
    page.get_by_label("Állapot napja").fill(hu_date(earlier.isoformat()))
    page.get_by_role("button", name="Lekérdezés").click()
    expect(page.locator("#view .subtitle")).to_have_text(f"Állapot: {hu_date(earlier.isoformat())}")
    past = api(gateway, customers["owing"], "balance", as_of=earlier.isoformat())
    assert field(page, "balance") == money(past["balance"])
    page.get_by_label("Állapot napja").fill("2026. 02. 30.")
    page.get_by_role("button", name="Lekérdezés").click()
    expect(page.locator("#view form .error")).to_contain_text("nem érvényes dátum")


@needs_chromium
def test_settlement_sheet_for_a_period_in_both_languages(page, gateway, customers):
    log_in(page, gateway, customers["owing"])
    open_view(page, "Elszámolólap", "sheet")
    start = TODAY - 55 * DAY
    page.get_by_label("Időszak kezdete").fill(hu_date(start.isoformat()))
    page.get_by_label("Időszak vége").fill(hu_date(TODAY.isoformat()))
    page.get_by_role("button", name="Lekérdezés").click()
    ready(page, "sheet")
    sheet = api(
        gateway,
        customers["owing"],
        "statements/settlement-sheet",
        lang="hu",
        **{"from": start.isoformat(), "to": TODAY.isoformat()},
    )
    assert field(page, "opening_balance") == money(sheet["opening_balance"])
    assert field(page, "closing_balance") == money(sheet["closing_balance"])
    assert column(page, "entries", "document") == [e["document"] for e in sheet["entries"]]
    assert column(page, "entries", "description") == [e["description"] for e in sheet["entries"]]
    assert not ENGLISH.search(page.locator("main").inner_text())
    screenshot(page, "sheet")
    pdf_download(page, "Letöltés PDF-ben", "settlement-sheet")
    english(page)
    ready(page, "sheet")
    assert page.locator("#view h1").text_content() == "Settlement sheet"
    assert "Bank transfer, ref." in " ".join(column(page, "entries", "description"))
    screenshot(page, "sheet-en")


@needs_chromium
def test_quota_pdf_annex_report_to_and_fee_as_of(page, gateway, customers):
    log_in(page, gateway, customers["owing"])
    open_view(page, "Perckeret kimutatás", "quota")
    assert "Szabadon felhasználható" in page.locator("main").inner_text()
    pdf_download(page, "Letöltés PDF-ben", "quota")
    open_view(page, "Szerződésmelléklet", "annex")
    report_to = api(gateway, customers["owing"], "contract-annex")["report_to"]["email"]
    expect(page.locator("a[data-field=report_to]")).to_have_attribute("href", f"mailto:{report_to}")
    earlier = TODAY - 100 * DAY
    page.get_by_label("Állapot napja").fill(hu_date(earlier.isoformat()))
    page.get_by_role("button", name="Lekérdezés").click()
    expect(page.locator("#view .subtitle")).to_have_text(f"Állapot: {hu_date(earlier.isoformat())}")
    open_view(page, "Várható éves terméktámogatási díj", "fee")
    page.get_by_label("Állapot napja").fill(hu_date(earlier.isoformat()))
    page.get_by_role("button", name="Lekérdezés").click()
    expect(page.locator("#view .subtitle")).to_have_text(f"Állapot: {hu_date(earlier.isoformat())}")
    text = page.locator("main").inner_text()
    assert "null" not in text and "éves díj" in text
    assert not ENGLISH.search(text)
    footer = page.locator("footer").inner_text()
    assert "+36" in footer and "8:00" in footer


@pytest.mark.parametrize("view", ["balance", "invoices", "sheet", "support", "quota", "annex", "fee"])
@needs_chromium
def test_no_english_on_hungarian_pages(page, gateway, customers, view):
    log_in(page, gateway, customers["owing"])
    ready(page, "balance")
    page.goto(f"{gateway}/#{view}")
    ready(page, view)
    assert not ENGLISH.search(page.locator("body").inner_text())


@needs_chromium
def test_support_filter_and_quota_take_hungarian_dates(page, gateway, customers):
    log_in(page, gateway, customers["owing"])
    open_view(page, "Eseménylista", "support")
    since = TODAY - 30 * DAY
    page.get_by_label("Megnyitva ettől").fill(hu_date(since.isoformat()))
    page.get_by_role("button", name="Szűrés", exact=True).click()
    ready(page, "support")
    recent = api(gateway, customers["owing"], "support-calls", per_page="20", **{"from": since.isoformat()})
    expect(page.locator("[data-field=total]")).to_have_text(f"{recent['total']} esemény")
    assert page.get_by_label("Megnyitva ettől").input_value() == hu_date(since.isoformat())
    open_view(page, "Perckeret kimutatás", "quota")
    assert page.get_by_label("Elszámolás napja").input_value() == hu_date(TODAY.isoformat())
