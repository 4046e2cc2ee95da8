-- +goose Up
-- Sign-in by emailed code or link, stored by the hash of the client's binding secret (see the
-- postgres migration). One statement: the indexes are inline.
CREATE TABLE email_signins (
    binding_hash VARCHAR(64)  NOT NULL,
    token_hash   VARCHAR(64)  NOT NULL,
    code_hash    VARCHAR(64)  NOT NULL,
    user_id      BIGINT       NOT NULL,
    stamp        VARCHAR(64)  NOT NULL,
    ip           VARCHAR(64)  NOT NULL DEFAULT '',
    user_agent   VARCHAR(512) NOT NULL DEFAULT '',
    failures     INT          NOT NULL DEFAULT 0,
    created_at   DATETIME(6)  NOT NULL,
    expires_at   DATETIME(6)  NOT NULL,
    approved_at  DATETIME(6)  NULL,
    used_at      DATETIME(6)  NULL,
    PRIMARY KEY (binding_hash),
    UNIQUE KEY email_signins_token_idx (token_hash),
    KEY email_signins_user_idx (user_id, expires_at),
    CONSTRAINT email_signins_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE email_signins;
