-- +goose Up
-- A team's notes: deleted with the team; the author is forgotten when the account goes.
CREATE TABLE notes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id     BIGINT        NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    title       VARCHAR(200)  NOT NULL,
    body        TEXT          NOT NULL,
    created_by  BIGINT        NULL REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMP     NOT NULL,
    updated_at  TIMESTAMP     NOT NULL
);
CREATE INDEX notes_team_id_idx ON notes (team_id, id);

-- +goose Down
DROP TABLE notes;
