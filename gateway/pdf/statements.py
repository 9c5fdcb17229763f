"""The settlement sheet and the minute quota statement as PDF documents (Hungarian)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import segno
from reportlab.lib.units import mm
from reportlab.platypus import Image, Spacer, Table, TableStyle

from gateway.pdf.layout import Story, grid, hu_date, hu_time, hu_validity, money, para, parties, render
from shared.timeutil import BUDAPEST

WITHHELD = {
    "outstanding_balance": "A kódokat a tartozás rendezése után adjuk ki.",
    "no_codes_issued": "Erre a napra nincs kiadott kód.",
}


def made_at() -> str:
    """The moment the document is made, Budapest time."""
    return hu_time(datetime.now(BUDAPEST).isoformat())


def summary(rows: list[tuple[str, str]], widths: tuple[float, float] = (60, 40)) -> Table:
    """Label / value pairs, values right-aligned."""
    table = Table(
        [[para(label), para(value)] for label, value in rows], colWidths=[w * mm for w in widths], hAlign="LEFT"
    )
    table.setStyle(TableStyle([("ALIGN", (1, 0), (1, -1), "RIGHT"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def codes_block(sheet: dict[str, Any]) -> Story:
    """The codes, or why they are withheld."""
    story: Story = [para("Kódok", "heading")]
    codes = sheet.get("codes")
    if not codes:
        return story + [para(WITHHELD[sheet["codes_withheld"]["reason"]])]
    rows = [
        ("Sorozatszám", codes["serial_number"]),
        ("Bérleti kód (a bérelt program futásához)", codes.get("rental_code") or "–"),
        ("Internet kód (a frissítések letöltéséhez)", codes["internet_code"]),
        ("Érvényes", hu_validity(codes["valid_from"], codes["valid_until"])),
    ]
    return story + [summary(rows, (75, 60))]


def payment_block(payment: dict[str, Any] | None) -> Story:
    """The bank details and the QR code to scan from a banking app."""
    if not payment:
        return []
    rows = [
        ("Kedvezményezett", payment["beneficiary"]),
        ("Számlaszám", payment["account_number"]),
        ("IBAN", payment["iban"]),
        ("BIC", payment["bic"]),
        ("Összeg", money(payment["amount"])),
        ("Közlemény", payment["reference"]),
    ]
    png = io.BytesIO()
    segno.make_qr(payment["qr"], error="m", encoding="utf-8").save(png, kind="png", scale=4, border=2)
    png.seek(0)
    table = Table(
        [[summary(rows, (35, 75)), Image(png, 38 * mm, 38 * mm)]], colWidths=[110 * mm, 45 * mm], hAlign="LEFT"
    )
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return [
        para("Fizetés", "heading"),
        table,
        para("Azonnali átutaláshoz olvassa be a QR-kódot a bankja mobilalkalmazásával.", "small"),
    ]


def entry_rows(entries: list[dict[str, Any]]) -> list[list[Any]]:
    """The sheet's lines as table rows under a header."""
    rows: list[list[Any]] = [["Dátum", "Bizonylat", "Megnevezés", "Esedékes", "Tartozik", "Követel", "Egyenleg"]]
    for e in entries:
        rows.append(
            [
                hu_date(e["date"]),
                e["document"],
                para(e.get("description") or "", "cell"),
                hu_date(e["due_on"]) if e.get("due_on") else "",
                money(e["debit"]) if e["debit"] else "",
                money(e["credit"]) if e["credit"] else "",
                money(e["running_balance"]),
            ]
        )
    return rows


def settlement_sheet_pdf(sheet: dict[str, Any], customer: dict[str, Any], vendor: dict[str, Any]) -> bytes:
    """The settlement sheet of a period."""
    story: Story = [
        para("Elszámolólap", "title"),
        parties(vendor, customer),
        Spacer(1, 4 * mm),
        para(f"Időszak: {hu_date(sheet['from'])} – {hu_date(sheet['to'])}"),
        para(f"Készült: {made_at()}", "small"),
        Spacer(1, 3 * mm),
        summary(
            [
                ("Nyitó egyenleg", money(sheet["opening_balance"])),
                ("Záró egyenleg", money(sheet["closing_balance"])),
                ("Ebből lejárt", money(sheet["overdue_amount"])),
            ]
        ),
        para("Tételek", "heading"),
    ]
    if sheet["entries"]:
        story.append(grid(entry_rows(sheet["entries"]), [21, 29, 40, 21, 21, 21, 21], numeric_from=4))
    else:
        story.append(para("Az időszakban nem volt tétel."))
    story += codes_block(sheet) + payment_block(sheet.get("payment"))
    footer = f"{vendor['name']} · {vendor['phone']} · {vendor['hours']}"
    return render(f"Elszámolólap {sheet['customer_code']}", story, footer, str(vendor["name"]))


def usage_rows(usage: list[dict[str, Any]]) -> list[list[Any]]:
    """The chargeable work logs as table rows under a header."""
    rows: list[list[Any]] = [["Időpont", "Hibajegy", "Tárgy", "Munkatárs", "Elvégzett munka", "Perc", "Összesen"]]
    for u in usage:
        rows.append(
            [
                hu_time(u["performed_at"]),
                u["call_id"],
                para(u.get("subject") or "–", "cell"),
                u["staff"],
                para(u.get("description") or "", "cell"),
                str(u["minutes"]),
                str(u["running_total"]),
            ]
        )
    return rows


def quota_pdf(quota: dict[str, Any], customer: dict[str, Any], vendor: dict[str, Any]) -> bytes:
    """The minute quota statement of a support year."""
    year = quota["support_year"]
    story: Story = [
        para("Perckeret kimutatás", "title"),
        parties(vendor, customer),
        Spacer(1, 4 * mm),
        para(f"Elszámolás napja: {hu_date(quota['settlement_date'])}"),
        para(f"Támogatási év: {hu_date(year['starts_on'])} – {hu_date(year['ends_on'])}"),
        para(f"Készült: {made_at()}", "small"),
        Spacer(1, 3 * mm),
        summary(
            [
                ("Éves terméktámogatási díj (nettó)", money(quota["annual_fee"])),
                ("Perckeret", f"{quota['total_minutes']} perc"),
                ("Felhasznált", f"{quota['used_minutes']} perc"),
                ("Szabadon felhasználható", f"{quota['remaining_minutes']} perc"),
                ("Túllépés", f"{quota['overrun_minutes']} perc"),
            ]
        ),
        para("Felhasználás", "heading"),
    ]
    if quota["usage"]:
        story.append(grid(usage_rows(quota["usage"]), [30, 28, 32, 24, 34, 10, 16], numeric_from=5))
    else:
        story.append(para("Ebben a támogatási évben még nem volt díjköteles munka."))
    if quota["overrun_invoices"]:
        rows: list[list[Any]] = [["Számlaszám", "Kelte", "Túllépés", "Nettó", "Bruttó"]]
        rows += [
            [
                i["invoice_number"],
                hu_date(i["issued_on"]),
                f"{i['overrun_minutes'] or 0} perc",
                money(i["net_amount"]),
                money(i["gross_amount"]),
            ]
            for i in quota["overrun_invoices"]
        ]
        story += [para("Túllépési számlák", "heading"), grid(rows, [40, 30, 30, 35, 35], numeric_from=2)]
    footer = f"{vendor['name']} · {vendor['phone']} · {vendor['hours']}"
    return render(f"Perckeret kimutatás {quota['customer_code']}", story, footer, str(vendor["name"]))
