-- +goose Up
-- Marks a credential registered as a passkey: a discoverable credential made with user
-- verification required, which may sign in on its own (the first factor, no email typed).
-- Credentials registered before, or as security keys, stay second factors only.
ALTER TABLE webauthn_credentials ADD COLUMN passkey BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE webauthn_credentials DROP COLUMN passkey;
