-- +goose Up
-- A session is one login: its refresh-token family and the access tokens issued with it.
CREATE TABLE sessions (
    id            VARCHAR(64)  NOT NULL,
    user_id       BIGINT       NOT NULL,
    scope         VARCHAR(64)  NOT NULL,
    remember      BOOLEAN      NOT NULL DEFAULT FALSE,
    ip            VARCHAR(64)  NOT NULL DEFAULT '',
    user_agent    VARCHAR(512) NOT NULL DEFAULT '',
    created_at    DATETIME(6)  NOT NULL,
    last_used_at  DATETIME(6)  NOT NULL,
    expires_at    DATETIME(6)  NOT NULL,
    revoked_at    DATETIME(6)  NULL,
    revoke_reason VARCHAR(32)  NOT NULL DEFAULT '',
    PRIMARY KEY (id),
    KEY sessions_user_id_idx (user_id),
    CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE sessions;
