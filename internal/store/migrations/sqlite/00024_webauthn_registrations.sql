-- +goose Up
-- Pending WebAuthn registrations: the ceremony's session data (challenge, user handle,
-- parameters; go-webauthn's SessionData as JSON) between the options request and the
-- authenticator's answer. At most one per user (a new request replaces the old one); short-lived
-- and deleted when the registration completes.
CREATE TABLE webauthn_registrations (
    user_id      BIGINT       PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    challenge    VARCHAR(128) NOT NULL,
    session_data TEXT         NOT NULL,
    created_at   TIMESTAMP    NOT NULL,
    expires_at   TIMESTAMP    NOT NULL
);

-- +goose Down
DROP TABLE webauthn_registrations;
