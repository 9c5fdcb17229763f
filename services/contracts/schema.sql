-- Contracts read model: facts as received, with their dates; answers are computed as of a date.
-- `arrival` orders facts of one day ("on one day, later events win").

CREATE TABLE IF NOT EXISTS contracts (
    contract_id   text PRIMARY KEY,
    customer_code text NOT NULL,
    signed_on     date NOT NULL,
    starts_on     date NOT NULL,
    arrival       bigserial NOT NULL
);
CREATE INDEX IF NOT EXISTS contracts_customer_code_idx ON contracts (customer_code);

-- kind: signed (an item of contract.signed, effective on signed_on) | added | removed | quantity_changed
CREATE TABLE IF NOT EXISTS contract_item_changes (
    arrival       bigserial PRIMARY KEY,
    contract_id   text NOT NULL,
    customer_code text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('signed', 'added', 'removed', 'quantity_changed')),
    effective_on  date NOT NULL,
    serial_number text NOT NULL,
    product_code  text,
    product_name  text,
    quantity      integer,
    license_type  text
);
CREATE INDEX IF NOT EXISTS contract_item_changes_customer_code_idx ON contract_item_changes (customer_code);

CREATE TABLE IF NOT EXISTS contract_terminations (
    arrival       bigserial PRIMARY KEY,
    contract_id   text NOT NULL,
    customer_code text NOT NULL,
    terminated_on date NOT NULL
);
CREATE INDEX IF NOT EXISTS contract_terminations_customer_code_idx ON contract_terminations (customer_code);

-- details holds only the fields the event gave (the customer block of contract.signed included).
CREATE TABLE IF NOT EXISTS customer_detail_changes (
    arrival       bigserial PRIMARY KEY,
    customer_code text NOT NULL,
    effective_on  date NOT NULL,
    details       jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS customer_detail_changes_customer_code_idx ON customer_detail_changes (customer_code);

-- password_hash NULL records a customer.portal_password_removed; the latest arrival is current.
CREATE TABLE IF NOT EXISTS portal_password_changes (
    arrival       bigserial PRIMARY KEY,
    customer_code text NOT NULL,
    password_hash text
);
-- changed_at: the event's time; sessions issued before the latest change are refused by the gateway.
ALTER TABLE portal_password_changes ADD COLUMN IF NOT EXISTS changed_at timestamptz;
CREATE INDEX IF NOT EXISTS portal_password_changes_customer_code_idx
    ON portal_password_changes (customer_code, arrival DESC);

CREATE TABLE IF NOT EXISTS price_lists (
    arrival     bigserial PRIMARY KEY,
    valid_from  date NOT NULL,
    currency    text NOT NULL,
    vat_rate    integer NOT NULL,
    products    jsonb NOT NULL,
    quota_tiers jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS price_lists_valid_from_idx ON price_lists (valid_from, arrival);
