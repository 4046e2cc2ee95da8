-- +goose Up
-- Sign-in by emailed code or link (SECURITY_PASSWORDLESS_EMAIL). Each request mails a 6-digit
-- code and a link, and hands the client that asked a random binding secret: the row is found by
-- the binding's SHA-256 (binding_hash) or by the link token's HMAC (token_hash), and the code's
-- HMAC is keyed by the binding too (code_hash), so the mail alone signs nobody in. Single use
-- (used_at), short-lived (expires_at), dead after a few wrong codes (failures), bound to the
-- account's security stamp. approved_at: the link was opened in another browser and its holder
-- confirmed that the client that asked may sign in. ip and user_agent describe that client, to
-- show on that confirmation page.
CREATE TABLE email_signins (
    binding_hash VARCHAR(64)  PRIMARY KEY,
    token_hash   VARCHAR(64)  NOT NULL,
    code_hash    VARCHAR(64)  NOT NULL,
    user_id      BIGINT       NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stamp        VARCHAR(64)  NOT NULL,
    ip           VARCHAR(64)  NOT NULL DEFAULT '',
    user_agent   VARCHAR(512) NOT NULL DEFAULT '',
    failures     INTEGER      NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ  NOT NULL,
    expires_at   TIMESTAMPTZ  NOT NULL,
    approved_at  TIMESTAMPTZ  NULL,
    used_at      TIMESTAMPTZ  NULL
);
CREATE UNIQUE INDEX email_signins_token_idx ON email_signins (token_hash);
CREATE INDEX email_signins_user_idx ON email_signins (user_id, expires_at);

-- +goose Down
DROP TABLE email_signins;
