-- +goose Up
-- The example team-owned resource (see docs/extending.md).
CREATE TABLE projects (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id     BIGINT        NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name        VARCHAR(200)  NOT NULL,
    description VARCHAR(2000) NOT NULL DEFAULT '',
    created_by  BIGINT        NULL REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMP   NOT NULL,
    updated_at  TIMESTAMP   NOT NULL
);
CREATE INDEX projects_team_id_idx ON projects (team_id, id);

-- +goose Down
DROP TABLE projects;
