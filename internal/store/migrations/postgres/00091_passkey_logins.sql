-- +goose Up
-- Pending passkey sign-ins (discoverable WebAuthn logins, no account known yet): go-webauthn's
-- session data (challenge, user verification required) by the SHA-256 of the opaque ceremony
-- token handed to the client that asked for the options. A row is deleted when an assertion
-- answers it (single use, right or wrong) and is dead once expires_at passes; the clean-up job
-- removes dead rows.
CREATE TABLE passkey_logins (
    id_hash      VARCHAR(64) PRIMARY KEY,
    session_data TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX passkey_logins_expires_idx ON passkey_logins (expires_at);

-- +goose Down
DROP TABLE passkey_logins;
