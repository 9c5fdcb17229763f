"""One valid `data` example per event type of the catalog, exactly as the contract writes it."""

from __future__ import annotations

from typing import Any

ITEM = {
    "serial_number": "SN-1",
    "product_code": "KONYV",
    "product_name": "Kettős könyvelés",
    "quantity": 2,
    "license_type": "purchase",
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "contract.signed": {
        "contract_id": "K-1",
        "customer_code": "C1001",
        "signed_on": "2024-02-20",
        "starts_on": "2024-02-29",
        "customer": {
            "name": "Példa Kft.",
            "postal_code": "1051",
            "city": "Budapest",
            "street_address": "Fő utca 1.",
            "tax_number": "12345678-2-42",
            "email": "a@b.hu",
        },
        "items": [ITEM],
    },
    "contract.item_added": {"contract_id": "K-1", "customer_code": "C1001", "effective_on": "2025-01-01", "item": ITEM},
    "contract.item_removed": {
        "contract_id": "K-1",
        "customer_code": "C1001",
        "effective_on": "2025-01-01",
        "serial_number": "SN-1",
    },
    "contract.item_quantity_changed": {
        "contract_id": "K-1",
        "customer_code": "C1001",
        "effective_on": "2025-01-01",
        "serial_number": "SN-1",
        "quantity": 3,
    },
    "contract.customer_details_changed": {"customer_code": "C1001", "effective_on": "2025-01-01", "city": "Szeged"},
    "contract.terminated": {"contract_id": "K-1", "customer_code": "C1001", "terminated_on": "2026-01-01"},
    "customer.portal_password_set": {
        "customer_code": "C1001",
        "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
    },
    "customer.portal_password_removed": {"customer_code": "C1001"},
    "price_list.published": {
        "valid_from": "2026-01-01",
        "currency": "HUF",
        "vat_rate": 27,
        "products": [
            {
                "product_code": "KONYV",
                "product_name": "Kettős könyvelés",
                "annual_fee": 120000,
                "additional_unit_fee": 30000,
            }
        ],
        "quota_tiers": [{"min_annual_fee": 0, "minutes": 60}, {"min_annual_fee": 100000, "minutes": 180}],
    },
    "invoice.issued": {
        "invoice_number": "SZ-2026-0001",
        "customer_code": "C1001",
        "issued_on": "2026-02-28",
        "due_on": "2026-03-15",
        "kind": "annual_support_fee",
        "description": "Éves díj",
        "net_amount": 150000,
        "vat_amount": 40500,
        "gross_amount": 190500,
        "currency": "HUF",
        "support_year": {"starts_on": "2026-02-28", "ends_on": "2027-02-27"},
        "serial_number": "SN-1",
    },
    "invoice.cancelled": {
        "invoice_number": "SZ-2026-0001",
        "customer_code": "C1001",
        "cancelled_on": "2026-03-01",
        "reason": "hibás",
    },
    "payment.received": {
        "payment_id": "B-1",
        "customer_code": "C1001",
        "received_on": "2026-03-10",
        "amount": 190500,
        "method": "bank_transfer",
        "reference": "SZ-2026-0001",
    },
    "payment.refunded": {"refund_id": "R-1", "customer_code": "C1001", "refunded_on": "2026-03-20", "amount": 500},
    "support_call.opened": {
        "call_id": "H-1",
        "customer_code": "C1001",
        "serial_number": "SN-1",
        "opened_at": "2026-03-01T08:00:00+01:00",
        "category": "bug_report",
        "channel": "phone",
        "subject": "Nem nyomtat",
        "description": "...",
    },
    "support_call.assigned": {
        "call_id": "H-1",
        "customer_code": "C1001",
        "assignee": "Kiss Anna",
        "assigned_at": "2026-03-01T08:05:00+01:00",
    },
    "support_call.status_changed": {
        "call_id": "H-1",
        "customer_code": "C1001",
        "status": "in_progress",
        "changed_at": "2026-03-01T09:00:00+01:00",
        "note": "dolgozunk rajta",
    },
    "support_call.work_logged": {
        "call_id": "H-1",
        "customer_code": "C1001",
        "work_id": "W-1",
        "performed_at": "2026-03-01T09:30:00+01:00",
        "staff": "Kiss Anna",
        "minutes": 25,
        "description": "távsegítség",
        "chargeable": True,
    },
    "support_call.closed": {
        "call_id": "H-1",
        "customer_code": "C1001",
        "closed_at": "2026-03-01T10:00:00Z",
        "resolution": "javítva",
    },
    "support_call.reopened": {
        "call_id": "H-1",
        "customer_code": "C1001",
        "reopened_at": "2026-03-02T10:00:00Z",
        "reason": "újra hibás",
    },
    "support_call.customer_replied": {
        "call_id": "H-1",
        "customer_code": "C1001",
        "replied_at": "2026-03-02T11:00:00Z",
        "message": "Köszönöm, most már nyomtat.",
    },
    "license.codes_issued": {
        "customer_code": "C1001",
        "serial_number": "SN-1",
        "valid_from": "2026-01-01",
        "valid_until": "2026-12-31",
        "rental_code": None,
        "internet_code": "INET-1234",
    },
}
