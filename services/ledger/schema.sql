-- Read model of the ledger service: facts as received, with their dates.
-- Answers "as of" a date are computed at query time (services/ledger/rules.py).

CREATE TABLE IF NOT EXISTS invoice (
    invoice_number text PRIMARY KEY,
    customer_code  text   NOT NULL,
    issued_on      date   NOT NULL,
    due_on         date   NOT NULL,
    kind           text   NOT NULL,
    description    text   NOT NULL,
    net_amount     bigint NOT NULL,
    vat_amount     bigint NOT NULL,
    gross_amount   bigint NOT NULL,
    currency       text   NOT NULL,
    serial_number  text,
    arrival        bigserial
);
CREATE INDEX IF NOT EXISTS invoice_customer_code_idx ON invoice (customer_code, issued_on);

-- Keyed by invoice number alone, without a reference to invoice: a cancellation may
-- arrive before its invoice (replays, redelivery) and must not be lost.
CREATE TABLE IF NOT EXISTS invoice_cancellation (
    invoice_number text PRIMARY KEY,
    customer_code  text NOT NULL,
    cancelled_on   date NOT NULL,
    reason         text,
    arrival        bigserial
);
CREATE INDEX IF NOT EXISTS invoice_cancellation_customer_code_idx ON invoice_cancellation (customer_code);

CREATE TABLE IF NOT EXISTS payment (
    payment_id    text PRIMARY KEY,
    customer_code text   NOT NULL,
    received_on   date   NOT NULL,
    amount        bigint NOT NULL,
    method        text   NOT NULL,
    reference     text,
    arrival       bigserial
);
CREATE INDEX IF NOT EXISTS payment_customer_code_idx ON payment (customer_code, received_on);

CREATE TABLE IF NOT EXISTS refund (
    refund_id     text PRIMARY KEY,
    customer_code text   NOT NULL,
    refunded_on   date   NOT NULL,
    amount        bigint NOT NULL,
    arrival       bigserial
);
CREATE INDEX IF NOT EXISTS refund_customer_code_idx ON refund (customer_code, refunded_on);

-- Every issue is kept; the one shown is chosen at query time (latest valid_from,
-- then latest arrival).
CREATE TABLE IF NOT EXISTS license_code (
    event_id      text PRIMARY KEY,
    customer_code text NOT NULL,
    serial_number text NOT NULL,
    valid_from    date NOT NULL,
    valid_until   date NOT NULL,
    rental_code   text,
    internet_code text NOT NULL,
    arrival       bigserial
);
CREATE INDEX IF NOT EXISTS license_code_customer_code_idx ON license_code (customer_code, serial_number);
