-- +goose Up
-- One-time SSO messages already accepted (SAML assertion ids), shared by every instance so that a
-- captured assertion cannot be replayed against another one. id_hash is the SHA-256 (hex) of the
-- id, which bounds the key whatever the identity provider sends; a row may be deleted once
-- expires_at has passed, since the message is refused as expired from then on.
CREATE TABLE sso_replay (
    id_hash    VARCHAR(64) PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sso_replay_expires_idx ON sso_replay (expires_at);

-- +goose Down
DROP TABLE sso_replay;
