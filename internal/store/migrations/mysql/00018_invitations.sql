-- +goose Up
-- Invitations to a team, link token and code stored only as SHA-256 hashes (see the postgres
-- migration). One statement: indexes are inline. ROW_FORMAT=DYNAMIC and utf8mb4_bin as for users:
-- email_lower is folded in Go and the index compares it exactly.
CREATE TABLE invitations (
    id          BIGINT       NOT NULL AUTO_INCREMENT,
    team_id     BIGINT       NOT NULL,
    email       VARCHAR(320) NOT NULL,
    email_lower VARCHAR(320) NOT NULL,
    role        VARCHAR(16)  NOT NULL,
    token_hash  VARCHAR(64)  NOT NULL,
    code_hash   VARCHAR(64)  NOT NULL,
    invited_by  BIGINT       NULL,
    created_at  DATETIME(6)  NOT NULL,
    expires_at  DATETIME(6)  NOT NULL,
    accepted_at DATETIME(6)  NULL,
    accepted_by BIGINT       NULL,
    revoked_at  DATETIME(6)  NULL,
    PRIMARY KEY (id),
    UNIQUE KEY invitations_token_hash_key (token_hash),
    KEY invitations_team_email_idx (team_id, email_lower),
    KEY invitations_code_hash_idx (code_hash),
    KEY invitations_invited_by_idx (invited_by),
    KEY invitations_accepted_by_idx (accepted_by),
    CONSTRAINT invitations_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE,
    CONSTRAINT invitations_invited_by_fk FOREIGN KEY (invited_by) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT invitations_accepted_by_fk FOREIGN KEY (accepted_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin ROW_FORMAT=DYNAMIC;

-- +goose Down
DROP TABLE invitations;
