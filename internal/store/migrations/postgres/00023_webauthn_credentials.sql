-- +goose Up
-- WebAuthn credentials (security keys and passkeys) used as a second factor. credential_hash is
-- the SHA-256 (hex) of the raw credential id: ids may be up to 1023 bytes, too long for a unique
-- index on every engine, so uniqueness and lookups go through the hash. sign_count and the flags
-- are updated after every successful assertion (the counter detects cloned authenticators).
CREATE TABLE webauthn_credentials (
    id                 BIGSERIAL PRIMARY KEY,
    user_id            BIGINT        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id      VARCHAR(1400) NOT NULL,
    credential_hash    VARCHAR(64)   NOT NULL,
    public_key         BYTEA         NOT NULL,
    attestation_type   VARCHAR(32)   NOT NULL DEFAULT '',
    attestation_format VARCHAR(32)   NOT NULL DEFAULT '',
    transports         VARCHAR(255)  NOT NULL DEFAULT '',
    aaguid             VARCHAR(36)   NOT NULL DEFAULT '',
    sign_count         BIGINT        NOT NULL DEFAULT 0,
    user_present       BOOLEAN       NOT NULL DEFAULT FALSE,
    user_verified      BOOLEAN       NOT NULL DEFAULT FALSE,
    backup_eligible    BOOLEAN       NOT NULL DEFAULT FALSE,
    backup_state       BOOLEAN       NOT NULL DEFAULT FALSE,
    name               VARCHAR(100)  NOT NULL,
    created_at         TIMESTAMPTZ   NOT NULL,
    last_used_at       TIMESTAMPTZ   NULL,
    CONSTRAINT webauthn_credentials_hash_key UNIQUE (credential_hash)
);
CREATE INDEX webauthn_credentials_user_idx ON webauthn_credentials (user_id, created_at);

-- +goose Down
DROP TABLE webauthn_credentials;
