"""Texts the ledger composes for the settlement sheet, in the interface language (`en` or `hu`).

English keeps the words the sheet always had; Hungarian follows the vendor's own sheet: "Sztornó"
(the word on Hungarian invoices), the payment method, and "közlemény" for the reference the payer gave.
"""

from __future__ import annotations

from shared.api.ledger import LANGUAGES

__all__ = ["LANGUAGES"]

WORDS = {
    "en": {
        "bank_transfer": "Bank transfer",
        "cash": "Cash",
        "card": "Card",
        "offset": "Offset",
        "reference": "{method}, ref. {reference}",
        "cancellation": "Storno: {description}",
        "refund": "Refund",
    },
    "hu": {
        "bank_transfer": "Banki átutalás",
        "cash": "Készpénz",
        "card": "Bankkártya",
        "offset": "Beszámítás",
        "reference": "{method}, közlemény: {reference}",
        "cancellation": "Sztornó: {description}",
        "refund": "Visszautalás",
    },
}


def payment_description(method: str, reference: str | None, lang: str = "en") -> str:
    """The method, and the invoice number the payer named, if any."""
    words = WORDS[lang]
    name = words.get(method, method)
    return words["reference"].format(method=name, reference=reference) if reference else name


def cancellation_description(description: str, lang: str = "en") -> str:
    """The line of a cancelled invoice."""
    return WORDS[lang]["cancellation"].format(description=description)


def refund_description(lang: str = "en") -> str:
    """The line of an overpayment paid back."""
    return WORDS[lang]["refund"]
