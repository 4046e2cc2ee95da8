-- +goose Up
-- Server-wide values generated at first start and shared by every instance.
CREATE TABLE settings (
    name       VARCHAR(64) NOT NULL,
    value      TEXT        NOT NULL,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE settings;
