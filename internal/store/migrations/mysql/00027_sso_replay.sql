-- +goose Up
-- One-time SSO messages already accepted (SAML assertion ids); see the postgres migration. One
-- statement: the index is inline.
CREATE TABLE sso_replay (
    id_hash    VARCHAR(64) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id_hash),
    KEY sso_replay_expires_idx (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE sso_replay;
