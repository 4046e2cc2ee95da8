-- +goose Up
-- The UTS #39 skeleton of the address (a SHA-256 hex digest, see store.EmailSkeleton): an address
-- whose skeleton another account has is confusable with it and refused. Filled in by the store on
-- every write and, for rows written before this migration, by a backfill at start-up.
ALTER TABLE users ADD COLUMN email_skeleton CHAR(64) NULL;

-- +goose Down
ALTER TABLE users DROP COLUMN email_skeleton;
