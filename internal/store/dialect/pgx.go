package dialect

import "github.com/jackc/pgx/v5"

func pgxConfig(dsn string) (*pgx.ConnConfig, error) {
	return pgx.ParseConfig(dsn)
}
