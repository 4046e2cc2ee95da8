-- +goose Up
-- Server-side sessions of the web pages (see the postgres migration). One statement: the index
-- is inline.
CREATE TABLE web_sessions (
    token_hash VARCHAR(64) NOT NULL,
    data       MEDIUMBLOB  NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    PRIMARY KEY (token_hash),
    KEY web_sessions_expires_idx (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE web_sessions;
