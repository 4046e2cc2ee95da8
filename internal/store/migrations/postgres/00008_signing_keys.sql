-- +goose Up
-- JWT signing keys. The newest active key signs; every key not yet retired verifies, so keys
-- rotate without logging anyone out.
CREATE TABLE signing_keys (
    kid         VARCHAR(64) PRIMARY KEY,
    alg         VARCHAR(16) NOT NULL,
    private_pem TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    retired_at  TIMESTAMPTZ NULL
);

-- +goose Down
DROP TABLE signing_keys;
