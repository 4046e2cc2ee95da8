-- +goose Up
-- The method that proved the first factor of a sign-in whose second step is pending, when it
-- was not the password (an authenticator code): the second step must then use another one.
ALTER TABLE two_factor_challenges ADD COLUMN first_factor VARCHAR(32) NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE two_factor_challenges DROP COLUMN first_factor;
