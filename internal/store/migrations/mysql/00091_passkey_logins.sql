-- +goose Up
-- Pending passkey sign-ins (see the postgres migration). One statement: the index is inline.
CREATE TABLE passkey_logins (
    id_hash      VARCHAR(64) NOT NULL,
    session_data TEXT        NOT NULL,
    created_at   DATETIME(6) NOT NULL,
    expires_at   DATETIME(6) NOT NULL,
    PRIMARY KEY (id_hash),
    KEY passkey_logins_expires_idx (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE passkey_logins;
