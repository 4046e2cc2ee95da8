-- +goose Up
-- A session is one login: the family of refresh tokens rotated from it, and the access tokens
-- issued with them (their sid claim). Revoking it ends all of them.
CREATE TABLE sessions (
    id           VARCHAR(64)  PRIMARY KEY,
    user_id      BIGINT       NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope        VARCHAR(64)  NOT NULL,
    remember     BOOLEAN      NOT NULL DEFAULT FALSE,
    ip           VARCHAR(64)  NOT NULL DEFAULT '',
    user_agent   VARCHAR(512) NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ  NOT NULL,
    last_used_at TIMESTAMPTZ  NOT NULL,
    expires_at   TIMESTAMPTZ  NOT NULL,
    revoked_at   TIMESTAMPTZ  NULL,
    revoke_reason VARCHAR(32) NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- +goose Down
DROP TABLE sessions;
