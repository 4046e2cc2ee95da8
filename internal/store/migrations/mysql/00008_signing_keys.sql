-- +goose Up
-- JWT signing keys: the newest active key signs; every key not yet retired verifies.
CREATE TABLE signing_keys (
    kid         VARCHAR(64) NOT NULL,
    alg         VARCHAR(16) NOT NULL,
    private_pem TEXT        NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    retired_at  DATETIME(6) NULL,
    PRIMARY KEY (kid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE signing_keys;
