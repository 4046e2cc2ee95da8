-- +goose Up
-- The outbox: every email is stored here before any delivery attempt and kept afterwards, so a
-- message is never lost on restart and an undeliverable one stays visible (status failed).
CREATE TABLE mail_outbox (
    id              BIGSERIAL     PRIMARY KEY,
    recipient       VARCHAR(320)  NOT NULL,
    -- 998: the longest header line RFC 5322 allows.
    subject         VARCHAR(998)  NOT NULL,
    text_body       TEXT          NOT NULL,
    html_body       TEXT          NOT NULL,
    status          VARCHAR(16)   NOT NULL DEFAULT 'pending',
    attempts        INTEGER       NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ   NOT NULL,
    -- The lease of the dispatcher delivering the message; NULL when none holds it.
    locked_until    TIMESTAMPTZ   NULL,
    last_error      VARCHAR(2000) NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ   NOT NULL,
    sent_at         TIMESTAMPTZ   NULL
);
CREATE INDEX mail_outbox_status_next_idx ON mail_outbox (status, next_attempt_at);

-- +goose Down
DROP TABLE mail_outbox;
