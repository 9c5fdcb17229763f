-- Runtime tables of every projector, beside the service's read model (same schema):
-- they are written in the same transaction as the read model, so they always agree.
CREATE TABLE IF NOT EXISTS projector_offsets (
    topic         text    NOT NULL,
    partition     integer NOT NULL,
    next_offset   bigint  NOT NULL,
    last_event_at timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition)
);

CREATE TABLE IF NOT EXISTS applied_events (
    event_id   text PRIMARY KEY,
    event_type text NOT NULL
);

CREATE TABLE IF NOT EXISTS rejected_events (
    id            bigserial PRIMARY KEY,
    topic         text    NOT NULL,
    partition     integer NOT NULL,
    "offset"      bigint  NOT NULL,
    event_key     text,
    event_id      text,
    event_type    text,
    reason        text    NOT NULL,
    value         bytea,
    rejected_at   timestamptz NOT NULL DEFAULT now(),
    republished_at timestamptz,
    UNIQUE (topic, partition, "offset")
);

CREATE TABLE IF NOT EXISTS projection_counters (
    event_type text PRIMARY KEY,
    applied    bigint NOT NULL DEFAULT 0,
    rejected   bigint NOT NULL DEFAULT 0
);
