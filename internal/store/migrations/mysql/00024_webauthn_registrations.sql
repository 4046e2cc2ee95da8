-- +goose Up
-- Pending WebAuthn registrations, at most one per user (see the postgres migration).
CREATE TABLE webauthn_registrations (
    user_id      BIGINT       NOT NULL,
    challenge    VARCHAR(128) NOT NULL,
    session_data TEXT         NOT NULL,
    created_at   DATETIME(6)  NOT NULL,
    expires_at   DATETIME(6)  NOT NULL,
    PRIMARY KEY (user_id),
    CONSTRAINT webauthn_registrations_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE webauthn_registrations;
