CREATE TABLE IF NOT EXISTS paid (
    customer_code text PRIMARY KEY,
    total bigint NOT NULL,
    events integer NOT NULL
);
