-- +goose Up
-- ROW_FORMAT=DYNAMIC and utf8mb4: 320-character emails fit the 3072-byte index limit.
CREATE TABLE users (
    id                   BIGINT       NOT NULL AUTO_INCREMENT,
    email                VARCHAR(320) NOT NULL,
    email_lower          VARCHAR(320) NOT NULL,
    password_hash        VARCHAR(255) NOT NULL DEFAULT '',
    password_scheme      VARCHAR(32)  NOT NULL DEFAULT '',
    active               BOOLEAN      NOT NULL DEFAULT TRUE,
    confirmed_at         DATETIME(6)  NULL,
    security_stamp       VARCHAR(64)  NOT NULL,
    must_change_password BOOLEAN      NOT NULL DEFAULT FALSE,
    last_login_at        DATETIME(6)  NULL,
    last_login_ip        VARCHAR(64)  NOT NULL DEFAULT '',
    current_login_at     DATETIME(6)  NULL,
    current_login_ip     VARCHAR(64)  NOT NULL DEFAULT '',
    login_count          BIGINT       NOT NULL DEFAULT 0,
    created_at           DATETIME(6)  NOT NULL,
    updated_at           DATETIME(6)  NOT NULL,
    PRIMARY KEY (id),
    -- utf8mb4_bin: email_lower is already folded in Go; a binary collation keeps the unique index
    -- exact instead of applying MySQL's own (accent-insensitive) folding on top.
    UNIQUE KEY users_email_lower_key (email_lower)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin ROW_FORMAT=DYNAMIC;

-- +goose Down
DROP TABLE users;
