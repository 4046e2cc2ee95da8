-- +goose Up
-- External identities (SSO): the account an identity provider's subject signs in to. provider is
-- "oidc:<name>" or "saml"; subject is the provider's stable id for the person (the OIDC "sub",
-- the SAML NameID), compared exactly (case-sensitive). One subject maps to one account; an account
-- may have several identities. email is the address the provider last asserted, for admins.
CREATE TABLE user_identities (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       BIGINT       NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider      VARCHAR(100) NOT NULL,
    subject       VARCHAR(255) NOT NULL,
    email         VARCHAR(320) NOT NULL DEFAULT '',
    created_at    TIMESTAMP    NOT NULL,
    last_login_at TIMESTAMP    NULL,
    CONSTRAINT user_identities_provider_subject_key UNIQUE (provider, subject)
);
CREATE INDEX user_identities_user_idx ON user_identities (user_id);

-- +goose Down
DROP TABLE user_identities;
