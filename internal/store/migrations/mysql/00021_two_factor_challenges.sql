-- +goose Up
-- Pending second login steps, stored by the hash of the challenge (see the postgres migration).
-- One statement: the index is inline.
CREATE TABLE two_factor_challenges (
    id_hash          VARCHAR(64) NOT NULL,
    user_id          BIGINT      NOT NULL,
    stamp            VARCHAR(64) NOT NULL,
    scope            VARCHAR(64) NOT NULL,
    remember         BOOLEAN     NOT NULL DEFAULT FALSE,
    failures         INT         NOT NULL DEFAULT 0,
    email_code_hash  VARCHAR(64) NULL,
    email_expires_at DATETIME(6) NULL,
    email_sent_at    DATETIME(6) NULL,
    webauthn_session TEXT        NULL,
    created_at       DATETIME(6) NOT NULL,
    expires_at       DATETIME(6) NOT NULL,
    used_at          DATETIME(6) NULL,
    PRIMARY KEY (id_hash),
    KEY two_factor_challenges_user_idx (user_id, expires_at),
    CONSTRAINT two_factor_challenges_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE two_factor_challenges;
