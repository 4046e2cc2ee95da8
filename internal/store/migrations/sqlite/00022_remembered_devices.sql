-- +goose Up
-- "Remember this device" tokens: stored only as SHA-256 hashes, bound to the user's security
-- stamp at issue (so logout-all, a password change or an admin reset ends them), expiring.
CREATE TABLE remembered_devices (
    token_hash VARCHAR(64) PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stamp      VARCHAR(64) NOT NULL,
    created_at TIMESTAMP   NOT NULL,
    expires_at TIMESTAMP   NOT NULL
);
CREATE INDEX remembered_devices_user_idx ON remembered_devices (user_id);

-- +goose Down
DROP TABLE remembered_devices;
