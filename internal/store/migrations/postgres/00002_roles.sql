-- +goose Up
CREATE TABLE roles (
    id          BIGSERIAL PRIMARY KEY,
    name        VARCHAR(32)  NOT NULL,
    description VARCHAR(255) NOT NULL DEFAULT '',
    CONSTRAINT roles_name_key UNIQUE (name)
);
INSERT INTO roles (name, description) VALUES
    ('admin', 'Full system access'),
    ('maintainer', 'Read/write access, no user management'),
    ('viewer', 'Read-only access');

-- +goose Down
DROP TABLE roles;
