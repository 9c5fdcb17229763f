"""Invoices, the settlement sheet and quota PDFs, and the payment QR code, through Kafka and the gateway.

The PDFs are read back with poppler's `pdftotext` and the QR image with zbar's `zbarimg` (Debian's
poppler-utils and zbar-tools): every figure of the JSON answer must be in the document, and the QR code must
decode to exactly `payment.qr`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from gateway.pdf.statements import settlement_sheet_pdf
from services.ledger.payment import HCT_FIELDS
from shared.config import vendor_settings
from shared.timeutil import today_budapest
from tests.e2e.conftest import login
from tests.e2e.test_portal_browser import contracts, invoices, support_calls
from tests.support import domain
from tests.support.events import customer_code

TODAY = today_budapest()
DAY = timedelta(days=1)
VENDOR = vendor_settings()


@pytest.fixture(scope="module")
def owing(publish) -> str:
    """An accounting office in arrears with a quota overrun (the browser test's data), logged in."""
    code, other = customer_code(), customer_code()
    publish("contracts", contracts(code, other))
    publish("invoices", invoices(code, other))
    publish(
        "payments",
        [
            domain.paid(code, 100_000, TODAY - 10 * DAY, reference=f"{code}-E1"),
            domain.paid(code, 5_000, TODAY - 400 * DAY),
        ],
    )
    publish("support-calls", support_calls(code, f"{code}-1"))
    return code


@pytest.fixture(scope="module")
def auth(gateway, owing) -> dict:
    return login(gateway, owing, f"{owing}-1")


def get(gateway: str, auth: dict, path: str, **params: str) -> requests.Response:
    return requests.get(f"{gateway}/api/v1/{path}", params=params, headers=auth, timeout=30)


def hu_money(amount: int) -> str:
    return ("-" if amount < 0 else "") + f"{abs(amount):,}".replace(",", " ") + " Ft"


def hu_date(iso: str) -> str:
    year, month, day = iso[:10].split("-")
    return f"{year}. {month}. {day}."


def pdf_text(body: bytes, tmp_path: Path) -> str:
    """The PDF's text as poppler extracts it, no-break spaces as spaces."""
    assert body.startswith(b"%PDF-")
    path = tmp_path / "document.pdf"
    path.write_bytes(body)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True).stdout
    return re.sub(r"[\u00a0\u202f]", " ", text.decode())


def test_invoices_statuses_totals_and_filters(gateway, auth, owing) -> None:
    code = owing
    listing = get(gateway, auth, "invoices")
    assert listing.status_code == 200, listing.text
    body = listing.json()
    status = {i["invoice_number"]: i["status"] for i in body["invoices"]}
    assert status == {f"{code}-S0": "cancelled", f"{code}-E1": "overdue", f"{code}-B1": "open", f"{code}-T1": "open"}
    fee = next(i for i in body["invoices"] if i["invoice_number"] == f"{code}-E1")
    assert (fee["paid_amount"], fee["open_amount"]) == (105_000, 85_500)
    balance = get(gateway, auth, "balance").json()
    assert body["totals"]["overdue_amount"] == balance["overdue_amount"] == 85_500
    assert body["totals"]["open_amount"] == balance["balance"] == 85_500 + 25_400 + 12_700
    only = get(gateway, auth, "invoices", status="cancelled").json()
    assert [i["invoice_number"] for i in only["invoices"]] == [f"{code}-S0"]
    recent = get(gateway, auth, "invoices", **{"from": (TODAY - 6 * DAY).isoformat()}).json()
    assert [i["invoice_number"] for i in recent["invoices"]] == [f"{code}-T1", f"{code}-B1"]


@pytest.mark.parametrize(
    "params",
    [{"status": "late"}, {"from": "2026-13-01"}, {"as_of": "yesterday"}, {"from": "2026-05-02", "to": "2026-05-01"}],
)
def test_invoices_bad_arguments_are_400_problems(gateway, auth, params) -> None:
    response = get(gateway, auth, "invoices", **params)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"]


def test_payment_block_and_qr_image_decode_to_the_payload(gateway, auth, owing, tmp_path) -> None:
    assert shutil.which("zbarimg"), "zbar-tools is needed to read the QR code back"
    payment = get(gateway, auth, "balance").json()["payment"]
    assert (payment["amount"], payment["currency"], payment["reference"]) == (123_600, "HUF", owing)
    assert re.fullmatch(r"\d{8}-\d{8}-\d{8}", payment["account_number"])
    image = get(gateway, auth, "payment-qr.png")
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"
    (tmp_path / "qr.png").write_bytes(image.content)
    decoded = subprocess.run(
        ["zbarimg", "--raw", "-q", "-Sbinary", str(tmp_path / "qr.png")], check=True, capture_output=True
    ).stdout
    assert decoded.decode("utf-8") in (payment["qr"], payment["qr"] + "\n")
    fields = dict(zip(HCT_FIELDS, payment["qr"].split("\n"), strict=False))
    assert payment["qr"].count("\n") == 17 and payment["qr"].endswith("\n")
    assert (fields["identification_code"], fields["version"], fields["character_set"]) == ("HCT", "001", "1")
    assert fields["bic"] == str(VENDOR["bic"]).ljust(11, "X") and fields["name"] == VENDOR["beneficiary"]
    assert fields["iban"] == payment["iban"] and fields["iban"][4:] == payment["account_number"].replace("-", "")
    assert fields["amount"] == f"HUF{payment['amount']}" and fields["remittance"] == payment["reference"]
    assert re.fullmatch(r"\d{14}\+[12]", fields["valid_until"]) and fields["valid_until"][:8] > TODAY.strftime("%Y%m%d")
    assert all(fields[name] == "" for name in HCT_FIELDS[10:]) and fields["payment_situation"] == ""
    svg = get(gateway, auth, "payment-qr.svg")
    assert svg.status_code == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<svg") and "Fizetési QR-kód" in svg.text


def test_settlement_sheet_json_and_pdf_carry_the_same_figures(gateway, auth, owing, tmp_path) -> None:
    period = {"from": (TODAY - 90 * DAY).isoformat(), "to": TODAY.isoformat()}
    sheet = get(gateway, auth, "statements/settlement-sheet", lang="hu", **period).json()
    assert sheet["opening_balance"] == -5_000 and sheet["closing_balance"] == 123_600
    assert any(e["description"].startswith("Sztornó: ") for e in sheet["entries"])
    pdf = get(gateway, auth, "statements/settlement-sheet", format="pdf", **period)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content, tmp_path)
    expected = [
        hu_money(sheet["opening_balance"]),
        hu_money(sheet["closing_balance"]),
        hu_date(sheet["from"]),
        hu_date(sheet["to"]),
        VENDOR["name"],
        VENDOR["tax_number"],
        owing,
        "Tisza Könyvelőiroda Kft.",
        "1. oldal / 1",
        sheet["payment"]["iban"],
        sheet["payment"]["account_number"],
    ]
    for e in sheet["entries"]:
        expected += [e["document"], hu_date(e["date"]), hu_money(e["running_balance"])]
        expected += [hu_money(e[k]) for k in ("debit", "credit") if e[k]]
        expected += [hu_date(e["due_on"])] if e["due_on"] else []
    missing = [figure for figure in expected if figure not in text]
    assert missing == [], text
    by_header = get(gateway, {**auth, "Accept": "application/pdf"}, "statements/settlement-sheet", **period)
    assert by_header.headers["Content-Type"] == "application/pdf"


def test_quota_pdf_carries_the_statement(gateway, auth, tmp_path) -> None:
    quota = get(gateway, auth, "quota").json()
    pdf = get(gateway, auth, "quota", format="pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content, tmp_path)
    expected = [
        hu_date(quota["settlement_date"]),
        hu_date(quota["support_year"]["starts_on"]),
        hu_date(quota["support_year"]["ends_on"]),
        hu_money(quota["annual_fee"]),
        "Szabadon felhasználható",
    ]
    expected += [f"{quota[k]} perc" for k in ("total_minutes", "used_minutes", "remaining_minutes", "overrun_minutes")]
    for u in quota["usage"]:
        expected += [u["call_id"], str(u["running_total"]), u["staff"]]
    for i in quota["overrun_invoices"]:
        expected += [
            i["invoice_number"],
            hu_date(i["issued_on"]),
            hu_money(i["net_amount"]),
            hu_money(i["gross_amount"]),
        ]
    missing = [figure for figure in expected if figure not in text]
    assert missing == [], text
    assert len(quota["usage"]) == 2 and "Könyvelőiroda" in text


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-05-02", "to": "2026-05-01"},
        {"from": "2020-01-01", "to": "2025-01-01"},
        {"format": "docx"},
        {"from": "2026-02-30"},
    ],
)
def test_settlement_sheet_bad_arguments_are_400(gateway, auth, params) -> None:
    response = get(gateway, auth, "statements/settlement-sheet", **params)
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_nothing_owed_means_no_payment_and_no_qr(gateway, publish) -> None:
    code = customer_code()
    publish("contracts", [domain.contract_signed(code, TODAY - 30 * DAY, TODAY - 30 * DAY, [domain.item(f"{code}-1")])])
    auth = login(gateway, code, f"{code}-1")
    assert get(gateway, auth, "balance").json()["payment"] is None
    assert get(gateway, auth, "payment-qr.png").status_code == 404
    assert get(gateway, auth, "payment-qr.svg").status_code == 404


def test_accents_survive_in_the_pdf_text(tmp_path) -> None:
    """ő and ű (outside Latin-1) come back from the PDF as they went in: the font is embedded whole enough."""
    customer = {
        "customer_code": "C-ŐŰ",
        "name": "Győri Műszaki Bt.",
        "postal_code": "9021",
        "city": "Győr",
        "street_address": "Szent István út 1.",
    }
    sheet = {
        "customer_code": "C-ŐŰ",
        "from": "2026-01-01",
        "to": "2026-01-31",
        "opening_balance": 0,
        "closing_balance": 12_700,
        "overdue_amount": 0,
        "codes": None,
        "codes_withheld": {"reason": "outstanding_balance", "amount_due": 12_700},
        "payment": None,
        "entries": [
            {
                "date": "2026-01-05",
                "type": "invoice",
                "document": "SZ-1",
                "due_on": "2026-01-20",
                "description": "Műszaki díj, ősz",
                "debit": 12_700,
                "credit": 0,
                "running_balance": 12_700,
            }
        ],
    }
    text = pdf_text(settlement_sheet_pdf(sheet, customer, VENDOR), tmp_path)
    for words in ("Győri Műszaki Bt.", "Műszaki díj, ősz", "12 700 Ft", "2026. 01. 05.", "1. oldal / 1"):
        assert words in text
