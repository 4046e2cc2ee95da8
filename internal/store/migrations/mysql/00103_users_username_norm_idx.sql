-- +goose Up
-- One account per username. Accounts without one (NULL) are not in conflict: InnoDB lets a
-- unique index hold many NULLs. The table's utf8mb4_bin collation keeps the comparison exact
-- (username_norm is already folded in Go). 255 characters of utf8mb4 fit the 3072-byte limit.
CREATE UNIQUE INDEX users_username_norm_key ON users (username_norm);

-- +goose Down
DROP INDEX users_username_norm_key ON users;
