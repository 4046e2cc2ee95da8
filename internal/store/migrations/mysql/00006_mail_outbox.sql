-- +goose Up
-- The outbox: every email is stored here before any delivery attempt and kept afterwards, so a
-- message is never lost on restart and an undeliverable one stays visible (status failed).
-- The index is declared inside CREATE TABLE: one DDL statement per file on the MySQL family.
CREATE TABLE mail_outbox (
    id              BIGINT        NOT NULL AUTO_INCREMENT,
    recipient       VARCHAR(320)  NOT NULL,
    -- 998: the longest header line RFC 5322 allows.
    subject         VARCHAR(998)  NOT NULL,
    text_body       MEDIUMTEXT    NOT NULL,
    html_body       MEDIUMTEXT    NOT NULL,
    status          VARCHAR(16)   NOT NULL DEFAULT 'pending',
    attempts        INT           NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6)   NOT NULL,
    -- The lease of the dispatcher delivering the message; NULL when none holds it.
    locked_until    DATETIME(6)   NULL,
    last_error      VARCHAR(2000) NOT NULL DEFAULT '',
    created_at      DATETIME(6)   NOT NULL,
    sent_at         DATETIME(6)   NULL,
    PRIMARY KEY (id),
    KEY mail_outbox_status_next_idx (status, next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin ROW_FORMAT=DYNAMIC;

-- +goose Down
DROP TABLE mail_outbox;
