-- +goose Up
-- Personal API keys: long-lived bearer credentials, stored only as SHA-256 hashes. stamp is the
-- owner's security stamp when the key was made; a key whose stamp no longer matches the owner's
-- (logout-all, reset access, password change or reset) is dead.
CREATE TABLE api_keys (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT       NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         VARCHAR(100) NOT NULL,
    prefix       VARCHAR(16)  NOT NULL,
    secret_hash  VARCHAR(64)  NOT NULL,
    scopes       VARCHAR(64)  NOT NULL,
    stamp        VARCHAR(64)  NOT NULL,
    created_at   TIMESTAMPTZ  NOT NULL,
    expires_at   TIMESTAMPTZ  NULL,
    last_used_at TIMESTAMPTZ  NULL,
    revoked_at   TIMESTAMPTZ  NULL,
    CONSTRAINT api_keys_secret_hash_key UNIQUE (secret_hash)
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at);

-- +goose Down
DROP TABLE api_keys;
