-- +goose Up
-- "Remember this device" tokens, stored only as hashes (see the postgres migration).
CREATE TABLE remembered_devices (
    token_hash VARCHAR(64) NOT NULL,
    user_id    BIGINT      NOT NULL,
    stamp      VARCHAR(64) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    PRIMARY KEY (token_hash),
    KEY remembered_devices_user_idx (user_id),
    CONSTRAINT remembered_devices_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE remembered_devices;
