-- +goose Up
-- One-time recovery codes, stored only as SHA-256 hashes (see the postgres migration).
CREATE TABLE recovery_codes (
    user_id    BIGINT      NOT NULL,
    code_hash  VARCHAR(64) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    used_at    DATETIME(6) NULL,
    PRIMARY KEY (user_id, code_hash),
    CONSTRAINT recovery_codes_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE recovery_codes;
