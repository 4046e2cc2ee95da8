package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// killer ends database sessions from a connection of its own, as a server restart or an
// administrator would: PostgreSQL answers the victim's next statement with SQLSTATE 57P01,
// MariaDB closes its socket.
type killer struct {
	db   config.DB
	conn *sql.Conn
}

func newKiller(t *testing.T, db config.DB) *killer {
	t.Helper()
	admin := open(t, db)
	conn, err := admin.DB().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &killer{db: db, conn: conn}
}

// self returns the session id of a connection (PostgreSQL backend pid, MariaDB connection id).
func sessionID(ctx context.Context, db config.DB, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int64, error) {
	var id int64
	query := "SELECT CONNECTION_ID()"
	if db.Family() == "postgres" {
		query = "SELECT pg_backend_pid()"
	}
	err := q.QueryRowContext(ctx, query).Scan(&id)
	return id, err
}

// killAll ends every session on the test database but the killer's own.
func (k *killer) killAll(t *testing.T) int {
	t.Helper()
	ctx := context.Background()
	own, err := sessionID(ctx, k.db, k.conn)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	query := "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> ?"
	if k.db.Family() == "postgres" {
		query = "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> $2"
	}
	rows, err := k.conn.QueryContext(ctx, query, k.db.Name, own)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		k.kill(t, id)
	}
	return len(ids)
}

func (k *killer) kill(t *testing.T, id int64) {
	t.Helper()
	var err error
	if k.db.Family() == "postgres" {
		_, err = k.conn.ExecContext(context.Background(), "SELECT pg_terminate_backend($1)", id)
	} else {
		_, err = k.conn.ExecContext(context.Background(), fmt.Sprintf("KILL CONNECTION %d", id))
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Logf("killing session %d: %v (already gone?)", id, err)
	}
}

// When the server ends the pool's sessions (a restart, a failover, an administrator), reads and
// transactions that meet a dead connection run again on a fresh one: the caller sees success, not
// a 500. A transaction whose session died before COMMIT is retried; one whose COMMIT met the dead
// session is not (it may have committed) and answers EUnavailable with a Retry-After.
func TestStoreSurvivesKilledSessions(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		if db.Type == testdb.SQLite {
			t.Skip("SQLite has no server sessions to end")
		}
		ctx := context.Background()
		s := open(t, db)
		k := newKiller(t, db)
		u := &gatehouse.User{Email: "faults@example.com", Active: true}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}

		// Fill the pool with connections that hold the prepared read statements.
		warm := func() {
			errs := make(chan error, 4)
			for range 4 {
				go func() {
					_, err := s.UserByID(ctx, u.ID)
					errs <- err
				}()
			}
			for range 4 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
		}
		warm()
		n := k.killAll(t)
		if n == 0 {
			t.Fatal("no session of the store found to end")
		}
		for i := range 8 {
			if _, err := s.UserByID(ctx, u.ID); err != nil {
				t.Fatalf("read %d after %d sessions were ended: %v (code %s)", i, n, err, gatehouse.ErrorCode(err))
			}
		}
		warm()
		k.killAll(t)
		if err := s.CreateTeam(ctx, &gatehouse.Team{Name: "after the kill"}, u.ID); err != nil {
			t.Fatalf("write after the sessions were ended: %v (code %s)", err, gatehouse.ErrorCode(err))
		}

		// A session that dies between two statements: the transaction did not commit, so it
		// runs again, and the row is written once.
		calls := 0
		err := s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			calls++
			if _, err := tx.ExecContext(ctx, "UPDATE users SET login_count = login_count + 1 WHERE id = ?", u.ID); err != nil {
				return err
			}
			if calls == 1 {
				id, err := sessionID(ctx, db, tx)
				if err != nil {
					return err
				}
				k.kill(t, id)
				time.Sleep(50 * time.Millisecond) // let the server close the socket
			}
			_, err := tx.ExecContext(ctx, "UPDATE users SET login_count = login_count + 10 WHERE id = ?", u.ID)
			return err
		})
		if err != nil || calls != 2 {
			t.Fatalf("transaction whose session died before COMMIT: err %v after %d runs, want success after 2", err, calls)
		}
		if got, err := s.UserByID(ctx, u.ID); err != nil || got.LoginCount != 11 {
			t.Fatalf("after the retried transaction: %+v, %v", got, err)
		}

		// A session that dies just before COMMIT: COMMIT's outcome is unknown to the client, so
		// the transaction is not run again and the caller gets 503 unavailable.
		calls = 0
		err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			calls++
			if _, err := tx.ExecContext(ctx, "UPDATE users SET login_count = login_count + 100 WHERE id = ?", u.ID); err != nil {
				return err
			}
			id, err := sessionID(ctx, db, tx)
			if err != nil {
				return err
			}
			k.kill(t, id)
			time.Sleep(50 * time.Millisecond)
			return nil
		})
		if calls != 1 || gatehouse.ErrorCode(err) != gatehouse.EUnavailable {
			t.Fatalf("COMMIT on a dead session: err %v (code %s) after %d runs, want unavailable after 1", err, gatehouse.ErrorCode(err), calls)
		}
		var de *gatehouse.Error
		if !errors.As(err, &de) || de.RetryAfter != store.RetryAfterUnavailable {
			t.Fatalf("COMMIT on a dead session: %#v, want RetryAfter %s", de, store.RetryAfterUnavailable)
		}
		if got, err := s.UserByID(ctx, u.ID); err != nil || (got.LoginCount != 11 && got.LoginCount != 111) {
			t.Fatalf("read after the failed COMMIT: %+v, %v", got, err)
		}
		st := s.DB().Stats()
		t.Logf("%s: ended %d sessions; %d retries; pool open %d in use %d", db.Type, n, s.Retries(), st.OpenConnections, st.InUse)
		if st.InUse != 0 {
			t.Errorf("%d connections still in use", st.InUse)
		}
	})
}
