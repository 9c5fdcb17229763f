"""The support event list as a CSV file that a Hungarian Excel opens in columns (portal's download).

Semicolon-separated (Excel's list separator where the decimal mark is a comma, as in Hungary), UTF-8 with a
byte-order mark (so Excel does not read it as ANSI), CRLF line ends, column headers and codes in the
interface language, and timestamps as Budapest wall-clock time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from shared.timeutil import BUDAPEST

BOM = "\ufeff"
HEADERS = {
    "hu": (
        "Azonosító",
        "Megnyitva",
        "Kategória",
        "Csatorna",
        "Tárgy",
        "Sorozatszám",
        "Állapot",
        "Ügyintéző",
        "Utolsó változás",
        "Lezárva",
        "Megoldás",
        "Perc",
    ),
    "en": (
        "Reference",
        "Opened",
        "Category",
        "Channel",
        "Subject",
        "Serial number",
        "Status",
        "Handled by",
        "Last change",
        "Closed",
        "Resolution",
        "Minutes",
    ),
}
LABELS = {
    "hu": {
        "registered": "Rögzítve",
        "in_progress": "Folyamatban",
        "waiting_for_customer": "Válaszára vár",
        "closed": "Lezárva",
        "bug_report": "Hibabejelentés",
        "help_request": "Segítségkérés",
        "development_request": "Fejlesztési igény",
        "consultation": "Konzultáció",
        "other": "Egyéb",
        "phone": "Telefon",
        "email": "E-mail",
        "remote": "Távsegítség",
        "on_site": "Helyszíni",
        "portal": "Portál",
    },
    "en": {
        "registered": "Registered",
        "in_progress": "In progress",
        "waiting_for_customer": "Waiting for you",
        "closed": "Closed",
        "bug_report": "Bug report",
        "help_request": "Help request",
        "development_request": "Development request",
        "consultation": "Consultation",
        "other": "Other",
        "phone": "Phone",
        "email": "E-mail",
        "remote": "Remote",
        "on_site": "On site",
        "portal": "Portal",
    },
}
TIMES = ("opened_at", "last_update_at", "closed_at")
CODED = ("category", "channel", "status")


def local_time(value: datetime | str | None, lang: str) -> str:
    """Budapest wall-clock time: 2026.11.26 09:15 (hu, as Excel reads a date) or 2026-11-26 09:15 (en)."""
    if not value:
        return ""
    moment = (datetime.fromisoformat(value) if isinstance(value, str) else value).astimezone(BUDAPEST)
    return moment.strftime("%Y.%m.%d %H:%M" if lang == "hu" else "%Y-%m-%d %H:%M")


def cells(call: dict[str, Any], columns: Iterable[str], lang: str) -> list[Any]:
    """One call's row: labels for codes, local times, empty for none."""
    row = []
    for name in columns:
        value = call[name]
        if name in TIMES:
            value = local_time(value, lang)
        elif name in CODED:
            value = LABELS[lang].get(value, value)
        row.append("" if value is None else value)
    return row


def excel_lines(calls: Iterable[dict[str, Any]], columns: tuple[str, ...], lang: str) -> Iterator[str]:
    """The BOM and header row, then one line per call."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS[lang])
    yield BOM + buffer.getvalue()
    for call in calls:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells(call, columns, lang))
        yield buffer.getvalue()
