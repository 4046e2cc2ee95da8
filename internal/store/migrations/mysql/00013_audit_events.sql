-- +goose Up
CREATE TABLE audit_events (
    id         BIGINT        NOT NULL AUTO_INCREMENT,
    at         DATETIME(6)   NOT NULL,
    event      VARCHAR(64)   NOT NULL,
    actor_id   BIGINT        NULL,
    subject_id BIGINT        NULL,
    email      VARCHAR(320)  NOT NULL DEFAULT '',
    ip         VARCHAR(64)   NOT NULL DEFAULT '',
    user_agent VARCHAR(512)  NOT NULL DEFAULT '',
    detail     VARCHAR(1000) NOT NULL DEFAULT '',
    PRIMARY KEY (id),
    KEY audit_events_subject_idx (subject_id, at),
    KEY audit_events_at_idx (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE audit_events;
