-- +goose Up
-- A team's notes: deleted with the team; the author is forgotten when the account goes.
-- One statement (MySQL commits DDL implicitly): the index and keys are part of CREATE TABLE.
CREATE TABLE notes (
    id          BIGINT        NOT NULL AUTO_INCREMENT,
    team_id     BIGINT        NOT NULL,
    title       VARCHAR(200)  NOT NULL,
    body        TEXT          NOT NULL,
    created_by  BIGINT        NULL,
    created_at  DATETIME(6)   NOT NULL,
    updated_at  DATETIME(6)   NOT NULL,
    PRIMARY KEY (id),
    KEY notes_team_id_idx (team_id, id),
    CONSTRAINT notes_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE,
    CONSTRAINT notes_user_fk FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE notes;
