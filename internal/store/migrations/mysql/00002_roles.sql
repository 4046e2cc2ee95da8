-- +goose Up
CREATE TABLE roles (
    id          BIGINT       NOT NULL AUTO_INCREMENT,
    name        VARCHAR(32)  NOT NULL,
    description VARCHAR(255) NOT NULL DEFAULT '',
    PRIMARY KEY (id),
    UNIQUE KEY roles_name_key (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- INSERT IGNORE: a retried migration after a crash between these two statements must not fail.
INSERT IGNORE INTO roles (name, description) VALUES
    ('admin', 'Full system access'),
    ('maintainer', 'Read/write access, no user management'),
    ('viewer', 'Read-only access');

-- +goose Down
DROP TABLE roles;
