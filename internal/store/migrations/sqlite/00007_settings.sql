-- +goose Up
-- Server-wide values generated at first start and shared by every instance (the password
-- salt when SECURITY_PASSWORD_SALT is not given, for example).
CREATE TABLE settings (
    name       VARCHAR(64) PRIMARY KEY,
    value      TEXT        NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE settings;
