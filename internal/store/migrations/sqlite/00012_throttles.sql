-- +goose Up
-- Brute-force counters shared by every instance: one row per account or client address and
-- action. A row is reset by a success and ages out after the backoff window.
CREATE TABLE throttles (
    throttle_key    VARCHAR(255) PRIMARY KEY,
    failures        INTEGER      NOT NULL DEFAULT 0,
    last_failure_at TIMESTAMP  NOT NULL,
    blocked_until   TIMESTAMP  NULL,
    locked_until    TIMESTAMP  NULL
);

-- +goose Down
DROP TABLE throttles;
