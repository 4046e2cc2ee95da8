-- +goose Up
-- A change-email token carries the address it confirms: the account moves to it only when the
-- mailed link or code comes back. NULL for every other purpose.
ALTER TABLE action_tokens ADD COLUMN new_email VARCHAR(320) NULL;

-- +goose Down
ALTER TABLE action_tokens DROP COLUMN new_email;
