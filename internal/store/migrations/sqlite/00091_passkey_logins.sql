-- +goose Up
-- Pending passkey sign-ins (see the postgres migration).
CREATE TABLE passkey_logins (
    id_hash      VARCHAR(64) PRIMARY KEY,
    session_data TEXT        NOT NULL,
    created_at   TIMESTAMP   NOT NULL,
    expires_at   TIMESTAMP   NOT NULL
);
CREATE INDEX passkey_logins_expires_idx ON passkey_logins (expires_at);

-- +goose Down
DROP TABLE passkey_logins;
