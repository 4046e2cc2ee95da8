-- +goose Up
-- An import run looks each source row up by its fs_uniquifier (to recognise an account it
-- created before, even when the email changed in the source since): one index read per row.
CREATE INDEX users_fs_uniquifier_idx ON users (fs_uniquifier);

-- +goose Down
DROP INDEX users_fs_uniquifier_idx;
