-- Read model of the quota service: facts as received, the statement is computed at query time.

-- Only the kinds the statement needs: annual_support_fee and quota_overrun.
CREATE TABLE IF NOT EXISTS quota_invoice (
    invoice_number  text PRIMARY KEY,
    customer_code   text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('annual_support_fee', 'quota_overrun')),
    issued_on       date NOT NULL,
    net_amount      bigint NOT NULL,
    gross_amount    bigint NOT NULL,
    year_starts_on  date NOT NULL,
    year_ends_on    date NOT NULL,
    overrun_minutes integer,
    arrival         bigserial NOT NULL
);
CREATE INDEX IF NOT EXISTS quota_invoice_customer_idx ON quota_invoice (customer_code, kind);

-- Every cancellation, of any kind of invoice: it may arrive before the invoice it cancels.
CREATE TABLE IF NOT EXISTS quota_invoice_cancellation (
    invoice_number text PRIMARY KEY,
    customer_code  text NOT NULL,
    cancelled_on   date NOT NULL,
    arrival        bigserial NOT NULL
);

CREATE TABLE IF NOT EXISTS quota_support_call (
    call_id       text PRIMARY KEY,
    customer_code text NOT NULL,
    subject       text NOT NULL,
    arrival       bigserial NOT NULL
);

-- Every work log, chargeable or not (the flag is a fact; the statement filters on it).
CREATE TABLE IF NOT EXISTS quota_work_log (
    work_id       text PRIMARY KEY,
    call_id       text NOT NULL,
    customer_code text NOT NULL,
    performed_at  timestamptz NOT NULL,
    staff         text NOT NULL,
    minutes       integer NOT NULL,
    description   text NOT NULL,
    chargeable    boolean NOT NULL,
    arrival       bigserial NOT NULL
);
CREATE INDEX IF NOT EXISTS quota_work_log_customer_time_idx
    ON quota_work_log (customer_code, performed_at);

-- quota_tiers: [{"min_annual_fee": int, "minutes": int}, ...] as published.
CREATE TABLE IF NOT EXISTS quota_price_list (
    valid_from  date PRIMARY KEY,
    quota_tiers jsonb NOT NULL,
    arrival     bigserial NOT NULL
);
