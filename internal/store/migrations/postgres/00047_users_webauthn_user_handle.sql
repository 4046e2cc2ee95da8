-- +goose Up
-- The WebAuthn user handle of an account imported from Flask-Security-Too (the UTF-8 bytes of
-- its fs_webauthn_user_handle): passkeys registered there return it, and must keep matching.
-- NULL means the handle is the account id (Gatehouse's own).
ALTER TABLE users ADD COLUMN webauthn_user_handle VARCHAR(64) NULL;

-- +goose Down
ALTER TABLE users DROP COLUMN webauthn_user_handle;
