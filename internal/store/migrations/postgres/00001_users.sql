-- +goose Up
CREATE TABLE users (
    id                   BIGSERIAL PRIMARY KEY,
    email                VARCHAR(320) NOT NULL,
    -- email_lower makes uniqueness case-insensitive on every engine with one plain unique index.
    email_lower          VARCHAR(320) NOT NULL,
    password_hash        VARCHAR(255) NOT NULL DEFAULT '',
    password_scheme      VARCHAR(32)  NOT NULL DEFAULT '',
    active               BOOLEAN      NOT NULL DEFAULT TRUE,
    confirmed_at         TIMESTAMPTZ  NULL,
    security_stamp       VARCHAR(64)  NOT NULL,
    must_change_password BOOLEAN      NOT NULL DEFAULT FALSE,
    last_login_at        TIMESTAMPTZ  NULL,
    last_login_ip        VARCHAR(64)  NOT NULL DEFAULT '',
    current_login_at     TIMESTAMPTZ  NULL,
    current_login_ip     VARCHAR(64)  NOT NULL DEFAULT '',
    login_count          BIGINT       NOT NULL DEFAULT 0,
    created_at           TIMESTAMPTZ  NOT NULL,
    updated_at           TIMESTAMPTZ  NOT NULL,
    CONSTRAINT users_email_lower_key UNIQUE (email_lower)
);

-- +goose Down
DROP TABLE users;
