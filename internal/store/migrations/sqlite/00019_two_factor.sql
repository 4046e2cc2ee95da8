-- +goose Up
-- Second factors of an account, one row per user that ever enrolled one. TOTP secrets are stored
-- only encrypted (AES-256-GCM under SECURITY_TOTP_SECRETS_KEY, bound to the user id);
-- totp_pending is a secret shown for enrolment and not yet confirmed with a code. totp_last_step
-- is the RFC 6238 time step of the last accepted code: a code of that step or an earlier one is
-- refused (replay), checked by a conditional UPDATE so that it holds across instances.
CREATE TABLE two_factor (
    user_id          BIGINT       PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    totp_secret      VARCHAR(255) NULL,
    totp_enabled_at  TIMESTAMP    NULL,
    totp_last_step   BIGINT       NOT NULL DEFAULT 0,
    totp_pending     VARCHAR(255) NULL,
    totp_pending_at  TIMESTAMP    NULL,
    email_enabled_at TIMESTAMP    NULL,
    updated_at       TIMESTAMP    NOT NULL
);

-- +goose Down
DROP TABLE two_factor;
