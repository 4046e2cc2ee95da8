-- +goose Up
-- Invitations to a team, mailed as a link token and a short code. Both are stored only as
-- SHA-256 hashes; an invitation is single use (accepted_at), revocable (revoked_at) and expires.
-- email_lower is the address folded in Go, so that matching the invitee is case-insensitive with
-- one plain index on every engine. invited_by survives the inviter's deletion as NULL.
CREATE TABLE invitations (
    id          BIGSERIAL PRIMARY KEY,
    team_id     BIGINT       NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    email       VARCHAR(320) NOT NULL,
    email_lower VARCHAR(320) NOT NULL,
    role        VARCHAR(16)  NOT NULL,
    token_hash  VARCHAR(64)  NOT NULL,
    code_hash   VARCHAR(64)  NOT NULL,
    invited_by  BIGINT       NULL REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ  NOT NULL,
    expires_at  TIMESTAMPTZ  NOT NULL,
    accepted_at TIMESTAMPTZ  NULL,
    accepted_by BIGINT       NULL REFERENCES users (id) ON DELETE SET NULL,
    revoked_at  TIMESTAMPTZ  NULL,
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX invitations_team_email_idx ON invitations (team_id, email_lower);
CREATE INDEX invitations_code_hash_idx ON invitations (code_hash);
CREATE INDEX invitations_invited_by_idx ON invitations (invited_by);
CREATE INDEX invitations_accepted_by_idx ON invitations (accepted_by);

-- +goose Down
DROP TABLE invitations;
