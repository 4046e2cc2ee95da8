-- +goose Up
-- Second factors of an account; TOTP secrets only encrypted (see the postgres migration).
CREATE TABLE two_factor (
    user_id          BIGINT       NOT NULL,
    totp_secret      VARCHAR(255) NULL,
    totp_enabled_at  DATETIME(6)  NULL,
    totp_last_step   BIGINT       NOT NULL DEFAULT 0,
    totp_pending     VARCHAR(255) NULL,
    totp_pending_at  DATETIME(6)  NULL,
    email_enabled_at DATETIME(6)  NULL,
    updated_at       DATETIME(6)  NOT NULL,
    PRIMARY KEY (user_id),
    CONSTRAINT two_factor_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE two_factor;
