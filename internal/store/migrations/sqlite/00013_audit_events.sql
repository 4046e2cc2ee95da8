-- +goose Up
CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TIMESTAMP   NOT NULL,
    event      VARCHAR(64)   NOT NULL,
    actor_id   BIGINT        NULL,
    subject_id BIGINT        NULL,
    email      VARCHAR(320)  NOT NULL DEFAULT '',
    ip         VARCHAR(64)   NOT NULL DEFAULT '',
    user_agent VARCHAR(512)  NOT NULL DEFAULT '',
    detail     VARCHAR(1000) NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_subject_idx ON audit_events (subject_id, at);
CREATE INDEX audit_events_at_idx ON audit_events (at);

-- +goose Down
DROP TABLE audit_events;
