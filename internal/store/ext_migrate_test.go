package store_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// widgetSet is a host resource's schema: a table that references Gatehouse's teams, then a
// second migration that changes it. upTo leaves later versions out (an older build of the host).
func widgetSet(upTo int) store.MigrationSet {
	files := map[string][2]string{
		"postgres": {
			"CREATE TABLE widgets (id BIGSERIAL PRIMARY KEY, team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE, name TEXT NOT NULL, " +
				"created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP, UNIQUE (team_id, name))",
			"ALTER TABLE widgets ADD COLUMN color TEXT NOT NULL DEFAULT ''",
		},
		"mysql": {
			"CREATE TABLE widgets (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, team_id BIGINT NOT NULL, name VARCHAR(200) NOT NULL, " +
				"created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), UNIQUE KEY uq_widgets_team_name (team_id, name), CONSTRAINT fk_widgets_team FOREIGN KEY (team_id) REFERENCES teams(id) ON DELETE CASCADE) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
			"ALTER TABLE widgets ADD COLUMN color VARCHAR(20) NOT NULL DEFAULT ''",
		},
		"sqlite": {
			"CREATE TABLE widgets (id INTEGER PRIMARY KEY AUTOINCREMENT, team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE, name TEXT NOT NULL, " +
				"created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, UNIQUE (team_id, name))",
			"ALTER TABLE widgets ADD COLUMN color TEXT NOT NULL DEFAULT ''",
		},
	}
	downs := [2]string{"DROP TABLE widgets", "ALTER TABLE widgets DROP COLUMN color"}
	fsys := fstest.MapFS{}
	for fam, ups := range files {
		for i, up := range ups[:upTo] {
			name := []string{"00001_widgets.sql", "00002_widget_color.sql"}[i]
			fsys[fam+"/"+name] = &fstest.MapFile{Data: []byte("-- +goose Up\n" + up + ";\n\n-- +goose Down\n" + downs[i] + ";\n")}
		}
	}
	return store.MigrationSet{Name: "widgets", Files: fsys}
}

func TestMigrationSets(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		old := open(t, db, store.WithMigrationSets(widgetSet(1)))
		st, err := old.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var gatehouse, widgets []int64
		for _, m := range st {
			if !m.Applied {
				t.Errorf("%q migration %d not applied", m.Set, m.Version)
			}
			switch m.Set {
			case "":
				gatehouse = append(gatehouse, m.Version)
			case "widgets":
				widgets = append(widgets, m.Version)
			}
		}
		if len(gatehouse) < 40 || !slices.Equal(widgets, []int64{1}) {
			t.Fatalf("status lists gatehouse %v and widgets %v", gatehouse, widgets)
		}
		// The host's table is there, after Gatehouse's teams (its foreign key needs them).
		if _, err := old.DB().ExecContext(ctx, "INSERT INTO widgets (team_id, name) SELECT id, 'w' FROM teams"); err != nil {
			t.Fatal(err)
		}

		// A newer build of the host brings migration 2: not ready until it is applied, and then
		// only it is applied (Gatehouse's version 1 and the set's version 1 are not confused).
		next, err := store.Open(ctx, db, store.WithMigrationSets(widgetSet(2)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = next.Close() })
		if err := next.Ready(ctx); err == nil || !strings.Contains(err.Error(), "widgets") {
			t.Fatalf("Ready with a pending host migration = %v, want an error naming the set", err)
		}
		applied, err := next.Migrate(ctx)
		if err != nil || !slices.Equal(applied, []int64{2}) {
			t.Fatalf("Migrate = %v, %v; want [2]", applied, err)
		}
		if err := next.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := next.DB().ExecContext(ctx, "UPDATE widgets SET color = 'blue'"); err != nil {
			t.Fatal(err)
		}
	})
}

// Three instances of a host starting at once apply each of Gatehouse's and the host's migrations
// exactly once: the sets share the one lock.
func TestConcurrentMigrateWithSets(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		stores := make([]*store.Store, 3)
		for i := range stores {
			s, err := store.Open(ctx, nodeFirst(db, i), store.WithMigrationSets(widgetSet(2)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			stores[i] = s
		}
		results := make([][]int64, 3)
		errs := make([]error, 3)
		var wg sync.WaitGroup
		for i, s := range stores {
			wg.Go(func() { results[i], errs[i] = s.Migrate(ctx) })
		}
		wg.Wait()
		var all []int64
		for i := range stores {
			if errs[i] != nil {
				t.Fatalf("instance %d: %v", i, errs[i])
			}
			all = append(all, results[i]...)
		}
		st, err := stores[0].MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, m := range st {
			want = append(want, m.Version)
		}
		slices.Sort(all)
		slices.Sort(want)
		if !slices.Equal(all, want) {
			t.Fatalf("versions applied across instances = %v, want each of %v exactly once", all, want)
		}
	})
}

func TestCheckMigrationSet(t *testing.T) {
	if err := store.CheckMigrationSet(widgetSet(2)); err != nil {
		t.Fatal(err)
	}
	missing := widgetSet(2)
	delete(missing.Files.(fstest.MapFS), "mysql/00002_widget_color.sql")
	badName := widgetSet(1)
	badName.Files.(fstest.MapFS)["sqlite/widgets.sql"] = &fstest.MapFile{Data: []byte("-- +goose Up\n")}
	for _, c := range []struct {
		set  store.MigrationSet
		want string
	}{
		{store.MigrationSet{Name: "Widgets", Files: fstest.MapFS{}}, "lower-case"},
		{store.MigrationSet{Name: "goose", Files: fstest.MapFS{}}, "Gatehouse's own"},
		{store.MigrationSet{Name: "widgets"}, "no files"},
		{store.MigrationSet{Name: "widgets", Files: fstest.MapFS{}}, "postgres/"},
		{missing, "same versions"},
		{badName, "NNNNN_name.sql"},
	} {
		if err := store.CheckMigrationSet(c.set); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckMigrationSet(%s) = %v, want an error containing %q", c.set.Name, err, c.want)
		}
	}
}

// The lock held aside while goose works needs a second connection: a pool of one still migrates.
// (Ready is not asked here: goose's Status takes the MySQL lease lock on the pool while holding a
// connection, which a pool of one cannot serve, before and after this change.)
func TestMigrateWithPoolOfOne(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		db.PoolSize = 1
		s := open(t, db, store.WithMigrationSets(widgetSet(2)))
		if got := s.DB().Stats().MaxOpenConnections; got != 1 {
			t.Errorf("pool size after migrating = %d, want 1 again", got)
		}
	})
}
