-- +goose Up
-- External identities (SSO); see the postgres migration. One statement: indexes are inline.
-- utf8mb4_bin keeps subjects case-sensitive, as the providers define them; 100 + 255 characters
-- of utf8mb4 fit the 3072-byte index limit with ROW_FORMAT=DYNAMIC.
CREATE TABLE user_identities (
    id            BIGINT       NOT NULL AUTO_INCREMENT,
    user_id       BIGINT       NOT NULL,
    provider      VARCHAR(100) NOT NULL,
    subject       VARCHAR(255) NOT NULL,
    email         VARCHAR(320) NOT NULL DEFAULT '',
    created_at    DATETIME(6)  NOT NULL,
    last_login_at DATETIME(6)  NULL,
    PRIMARY KEY (id),
    UNIQUE KEY user_identities_provider_subject_key (provider, subject),
    KEY user_identities_user_idx (user_id),
    CONSTRAINT user_identities_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin ROW_FORMAT=DYNAMIC;

-- +goose Down
DROP TABLE user_identities;
