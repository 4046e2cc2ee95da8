-- +goose Up
-- The example team-owned resource (see docs/extending.md).
CREATE TABLE projects (
    id          BIGSERIAL PRIMARY KEY,
    team_id     BIGINT        NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name        VARCHAR(200)  NOT NULL,
    description VARCHAR(2000) NOT NULL DEFAULT '',
    created_by  BIGINT        NULL REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ   NOT NULL,
    updated_at  TIMESTAMPTZ   NOT NULL
);
CREATE INDEX projects_team_id_idx ON projects (team_id, id);

-- +goose Down
DROP TABLE projects;
