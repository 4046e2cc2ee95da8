-- +goose Up
-- Brute-force counters shared by every instance.
CREATE TABLE throttles (
    throttle_key    VARCHAR(255) NOT NULL,
    failures        INT          NOT NULL DEFAULT 0,
    last_failure_at DATETIME(6)  NOT NULL,
    blocked_until   DATETIME(6)  NULL,
    locked_until    DATETIME(6)  NULL,
    PRIMARY KEY (throttle_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE throttles;
