package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// A host resource's transaction: plain SQL on every engine, the new id of an insert, the fixed
// clock round-tripping through a timestamp column, driver errors as domain codes, and audit and
// outbox rows that commit or roll back with the change.
func TestExtTx(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		clock := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("X", 3600))
		s := open(t, db, store.WithMigrationSets(widgetSet(2)), store.WithClock(func() time.Time { return clock }))
		owner := mkUser(t, s, "owner@example.com", true)
		team := &gatehouse.Team{Name: "T"}
		if err := s.CreateTeam(ctx, team, owner.ID); err != nil {
			t.Fatal(err)
		}

		var id int64
		err := s.ExtInTx(ctx, func(ctx context.Context, tx *store.ExtTx) error {
			if want := clock.UTC().Truncate(time.Microsecond); !tx.Now().Equal(want) || tx.Now().Location() != time.UTC {
				t.Errorf("Now() = %v, want %v in UTC", tx.Now(), want)
			}
			var err error
			if id, err = tx.InsertID(ctx, "INSERT INTO widgets (team_id, name, created_at) VALUES (?, ?, ?)", team.ID, "it's a ? 'quoted' name", tx.Now()); err != nil {
				return err
			}
			if err := tx.Audit(ctx, gatehouse.AuditEvent{Event: "widget.created", ActorID: &owner.ID, Detail: "widget"}); err != nil {
				return err
			}
			return tx.EnqueueMail(ctx, &gatehouse.OutboxMail{To: "owner@example.com", Subject: "A widget", Text: "made"})
		})
		if err != nil || id < 1 {
			t.Fatalf("insert: id %d, %v", id, err)
		}

		// Reading back: the values and the time as written, in a read transaction.
		err = s.ExtReadTx(ctx, func(ctx context.Context, tx *store.ExtTx) error {
			var name string
			var at time.Time
			if err := tx.QueryRowContext(ctx, "SELECT name, created_at FROM widgets WHERE team_id = ? AND id = ?", team.ID, id).Scan(&name, &at); err != nil {
				return err
			}
			if name != "it's a ? 'quoted' name" || !at.Equal(tx.Now()) {
				t.Errorf("read back %q at %v, want the name and %v", name, at, tx.Now())
			}
			rows, err := tx.QueryContext(ctx, "SELECT id FROM widgets WHERE team_id = ? ORDER BY id", team.ID)
			if err != nil {
				return err
			}
			defer func() { _ = rows.Close() }()
			n := 0
			for rows.Next() {
				n++
			}
			if n != 1 {
				t.Errorf("%d rows, want 1", n)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}

		// Errors: no row is not_found, a duplicate is conflict.
		err = s.ExtReadTx(ctx, func(ctx context.Context, tx *store.ExtTx) error {
			var name string
			return tx.QueryRowContext(ctx, "SELECT name FROM widgets WHERE id = ?", id+1000).Scan(&name)
		})
		if code := gatehouse.ErrorCode(err); code != gatehouse.ENotFound {
			t.Errorf("no row: %v (%q), want not_found", err, code)
		}
		err = s.ExtInTx(ctx, func(ctx context.Context, tx *store.ExtTx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO widgets (team_id, name) VALUES (?, ?)", team.ID, "it's a ? 'quoted' name")
			if gatehouse.ErrorCode(err) != gatehouse.EConflict {
				t.Errorf("duplicate inside the transaction: %v, want conflict", err)
			}
			return err
		})
		if code := gatehouse.ErrorCode(err); code != gatehouse.EConflict {
			t.Errorf("duplicate: %v (%q), want conflict", err, code)
		}

		// A failed transaction leaves neither its audit event nor its mail behind.
		boom := errors.New("boom")
		err = s.ExtInTx(ctx, func(ctx context.Context, tx *store.ExtTx) error {
			if err := tx.Audit(ctx, gatehouse.AuditEvent{Event: "widget.doomed"}); err != nil {
				return err
			}
			if err := tx.EnqueueMail(ctx, &gatehouse.OutboxMail{To: "owner@example.com", Subject: "Doomed", Text: "never"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("rolled back transaction: %v", err)
		}
		for ev, want := range map[string]int{"widget.created": 1, "widget.doomed": 0} {
			evs, err := s.AuditEvents(ctx, 0, ev, 10)
			if err != nil || len(evs) != want {
				t.Errorf("%d %s events (%v), want %d", len(evs), ev, err, want)
			}
		}
		mails, err := s.ListMail(ctx, "", 10)
		if err != nil || len(mails) != 1 || mails[0].Subject != "A widget" {
			t.Errorf("outbox = %+v, %v; want the committed mail only", mails, err)
		}
		err = s.ExtInTx(ctx, func(ctx context.Context, tx *store.ExtTx) error {
			return tx.EnqueueMail(ctx, &gatehouse.OutboxMail{To: "", Subject: "x", Text: "y"})
		})
		if gatehouse.ErrorFields(err)["to"] == "" {
			t.Errorf("mail without a recipient: %v, want a field error on to", err)
		}
	})
}
