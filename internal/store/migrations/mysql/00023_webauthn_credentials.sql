-- +goose Up
-- WebAuthn credentials used as a second factor (see the postgres migration). One statement:
-- indexes are inline. credential_id is base64url (ASCII); uniqueness goes through
-- credential_hash because a 1400-character utf8mb4 column is too long for an index.
CREATE TABLE webauthn_credentials (
    id                 BIGINT        NOT NULL AUTO_INCREMENT,
    user_id            BIGINT        NOT NULL,
    credential_id      VARCHAR(1400) NOT NULL,
    credential_hash    VARCHAR(64)   NOT NULL,
    public_key         BLOB          NOT NULL,
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
    created_at         DATETIME(6)   NOT NULL,
    last_used_at       DATETIME(6)   NULL,
    PRIMARY KEY (id),
    UNIQUE KEY webauthn_credentials_hash_key (credential_hash),
    KEY webauthn_credentials_user_idx (user_id, created_at),
    CONSTRAINT webauthn_credentials_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin ROW_FORMAT=DYNAMIC;

-- +goose Down
DROP TABLE webauthn_credentials;
