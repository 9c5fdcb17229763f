-- Read model of the tickets service: support calls and their work logs.
-- Idempotent; applied with search_path set to the service's schema.

-- One row per call, folded incrementally from support_call.* events.
-- A row may be partial (opening not arrived yet): opened_at is then null
-- and the call is not listed.
CREATE TABLE IF NOT EXISTS support_call (
    customer_code  text        NOT NULL,
    call_id        text        NOT NULL,
    opened_at      timestamptz,
    category       text,
    channel        text,
    subject        text,
    serial_number  text,
    description    text,
    status         text,
    status_at      timestamptz,
    closed_at      timestamptz,
    resolution     text,
    assignee       text,
    assignee_at    timestamptz,
    last_update_at timestamptz,
    minutes_logged integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (customer_code, call_id)
);

-- Serves the list order and the from/to range (as opened_at bounds) of one customer.
CREATE INDEX IF NOT EXISTS support_call_customer_opened_idx
    ON support_call (customer_code, opened_at DESC, call_id)
    WHERE opened_at IS NOT NULL;

-- Work logs as received; work_id is unique, so a repeated log adds nothing.
CREATE TABLE IF NOT EXISTS support_call_work (
    work_id       text        PRIMARY KEY,
    customer_code text        NOT NULL,
    call_id       text        NOT NULL,
    performed_at  timestamptz NOT NULL,
    staff         text        NOT NULL,
    minutes       integer     NOT NULL,
    description   text        NOT NULL,
    chargeable    boolean     NOT NULL
);

CREATE INDEX IF NOT EXISTS support_call_work_call_idx
    ON support_call_work (customer_code, call_id);

-- Every event of a call, as applied (a repeated work_id is left out, as it adds nothing):
-- the call's story. `applied` orders events of the same moment as they were applied.
CREATE TABLE IF NOT EXISTS support_call_history (
    applied       bigserial   PRIMARY KEY,
    event_id      text        NOT NULL UNIQUE,
    customer_code text        NOT NULL,
    call_id       text        NOT NULL,
    kind          text        NOT NULL,
    at            timestamptz NOT NULL,
    facts         jsonb       NOT NULL
);

CREATE INDEX IF NOT EXISTS support_call_history_call_idx
    ON support_call_history (customer_code, call_id, at, applied);
