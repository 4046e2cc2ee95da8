-- +goose Up
-- One-time confirmation and reset tokens (link token and short code), stored only as hashes.
CREATE TABLE action_tokens (
    token_hash VARCHAR(64) NOT NULL,
    code_hash  VARCHAR(64) NOT NULL,
    purpose    VARCHAR(16) NOT NULL,
    user_id    BIGINT      NOT NULL,
    stamp      VARCHAR(64) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    used_at    DATETIME(6) NULL,
    PRIMARY KEY (token_hash),
    KEY action_tokens_code_idx (purpose, code_hash),
    KEY action_tokens_user_idx (user_id),
    CONSTRAINT action_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE action_tokens;
