-- +goose Up
-- One account per username. Accounts without one (NULL) are not in conflict: every engine
-- lets a unique index hold many NULLs.
CREATE UNIQUE INDEX users_username_norm_key ON users (username_norm);

-- +goose Down
DROP INDEX users_username_norm_key;
