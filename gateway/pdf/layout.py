"""What every PDF shares: A4 page, embedded fonts, the vendor and customer headers, page numbers, formats."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle

from shared import config
from shared.timeutil import BUDAPEST
from shared.web.problems import ProblemError

log = logging.getLogger("gateway.pdf")

FONT_DIR = Path(config.get("PDF_FONT_DIR"))
FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
NBSP = "\u00a0"
MARGIN = 18 * mm
GRID = colors.HexColor("#b8c2cc")
SHADE = colors.HexColor("#eef2f5")


@cache
def register_fonts() -> None:
    """Embed DejaVu Sans (Debian's fonts-dejavu-core); a missing font is a clear error, not a broken PDF."""
    for name in (FONT, BOLD):
        path = FONT_DIR / f"{name}.ttf"
        if not path.exists():
            log.error("PDF font missing", extra={"path": str(path)})
            raise ProblemError(503, "Service Unavailable", "PDF documents are unavailable (font missing).")
        pdfmetrics.registerFont(TTFont(name, str(path)))


def money(amount: int | None) -> str:
    """12 345 Ft, with no-break spaces (as the portal shows it)."""
    if amount is None:
        return "–"
    sign = "-" if amount < 0 else ""
    return sign + f"{abs(amount):,}".replace(",", NBSP) + NBSP + "Ft"


def hu_date(value: str | date | None) -> str:
    """2026. 11. 26."""
    if value is None:
        return "–"
    iso = value.isoformat() if isinstance(value, date) else value
    year, month, day = iso[:10].split("-")
    return f"{year}. {month}. {day}."


def hu_validity(valid_from: str, valid_until: str) -> str:
    """2026. 01. 01-től 2026. 12. 31-ig: the suffix follows the day's last word (egy-től, három-tól, húsz-tól)."""
    day = int(valid_from[8:10])
    back = day in (20, 30) if day % 10 == 0 else day % 10 in (3, 6, 8)
    return f"{hu_date(valid_from)[:-1]}-{'tól' if back else 'től'} {hu_date(valid_until)[:-1]}-ig"


def hu_time(value: str) -> str:
    """An ISO timestamp as its Budapest date and time: 2026. 11. 26. 09:15."""
    moment = datetime.fromisoformat(value).astimezone(BUDAPEST)
    return f"{hu_date(moment.date())} {moment:%H:%M}"


@cache
def styles() -> dict[str, ParagraphStyle]:
    """The few paragraph styles the documents use."""
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10),
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=15, leading=19, spaceAfter=4),
        "heading": ParagraphStyle(
            "heading", parent=body, fontName=BOLD, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4
        ),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10),
    }


def para(text: str, style: str = "body") -> Paragraph:
    """A paragraph; the text is escaped (customer data may hold '<' or '&')."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Paragraph(escaped, styles()[style])


def parties(vendor: dict[str, Any], customer: dict[str, Any]) -> Table:
    """Vendor (left) and customer (right) blocks."""
    address = " ".join(str(customer.get(k) or "") for k in ("postal_code", "city")).strip()
    left = [
        para(str(vendor["name"]), "heading"),
        para(str(vendor["address"])),
        para(f"Adószám: {vendor['tax_number']}"),
    ]
    right = [
        para(customer.get("name") or customer["customer_code"], "heading"),
        para(", ".join(p for p in (address, customer.get("street_address") or "") if p)),
        para(f"Ügyfélkód: {customer['customer_code']}"),
    ]
    if customer.get("tax_number"):
        right.append(para(f"Adószám: {customer['tax_number']}"))
    table = Table([[left, right]], colWidths=[(A4[0] - 2 * MARGIN - 12) / 2] * 2)  # the frame pads 6 pt each side
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def grid(rows: list[list[Any]], widths: list[float], numeric_from: int) -> Table:
    """A table with a shaded header row; columns from `numeric_from` on are right-aligned."""
    table = Table(rows, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 8),
                ("FONT", (0, 0), (-1, 0), BOLD, 8),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID),
                ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
    )
    return table


def numbered_canvas(footer: str) -> type[Canvas]:
    """A canvas that writes "page n / N" and the footer on every page once the page count is known."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self.pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for state in self.pages:
                self.__dict__.update(state)
                self.setFont(FONT, 7.5)
                self.setFillColor(colors.HexColor("#555555"))
                self.drawString(MARGIN, 10 * mm, footer)
                self.drawRightString(A4[0] - MARGIN, 10 * mm, f"{self._pageNumber}. oldal / {len(self.pages)}")
                super().showPage()
            super().save()

    return NumberedCanvas


def render(title: str, story: list[Flowable], footer: str, author: str) -> bytes:
    """The document as PDF bytes: A4, the story, the footer and page numbers on every page."""
    register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=18 * mm,
        title=title,
        author=author,
        lang="hu-HU",
    )
    doc.build(story, canvasmaker=numbered_canvas(footer))
    return buffer.getvalue()


Story = list[Flowable]
Builder = Callable[..., Story]
