package store_test

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// open opens and migrates a store on db with a fixed clock.
func open(t *testing.T, db config.DB, opts ...store.Option) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, db, opts...)
	if err != nil {
		t.Fatalf("open %s: %v", db.Type, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", db.Type, err)
	}
	return s
}

func TestMigrationVersionsMatchAcrossFamilies(t *testing.T) {
	versions := map[string][]string{}
	for _, fam := range []string{"postgres", "mysql", "sqlite"} {
		fsys, err := store.Migrations(fam)
		if err != nil {
			t.Fatal(err)
		}
		names, err := fs.Glob(fsys, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		if len(names) == 0 {
			t.Fatalf("%s: no migrations", fam)
		}
		versions[fam] = names
	}
	// Same file names means same version numbers and the same purpose in each family.
	for _, fam := range []string{"mysql", "sqlite"} {
		if !slices.Equal(versions[fam], versions["postgres"]) {
			t.Errorf("%s migrations %v differ from postgres %v", fam, versions[fam], versions["postgres"])
		}
	}
}

func TestMigrateUpDownStatus(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		st, err := s.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range st {
			if !m.Applied {
				t.Errorf("migration %d not applied", m.Version)
			}
		}
		if err := s.Ready(ctx); err != nil {
			t.Fatalf("Ready after migrate: %v", err)
		}
		last := st[len(st)-1].Version
		v, err := s.MigrateDown(ctx)
		if err != nil || v != last {
			t.Fatalf("MigrateDown = %d, %v; want %d", v, err, last)
		}
		if err := s.Ready(ctx); err == nil {
			t.Fatal("Ready with a pending migration = nil, want an error")
		}
		applied, err := s.Migrate(ctx)
		if err != nil || !slices.Equal(applied, []int64{last}) {
			t.Fatalf("Migrate = %v, %v; want [%d]", applied, err, last)
		}
	})
}

// Three instances starting at the same moment apply each migration exactly once.
func TestConcurrentMigrate(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		var wg sync.WaitGroup
		results := make([][]int64, 3)
		errs := make([]error, 3)
		stores := make([]*store.Store, 3)
		for i := range stores {
			s, err := store.Open(ctx, nodeFirst(db, i))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			stores[i] = s
		}
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
		slices.Sort(all)
		st, err := stores[0].MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, m := range st {
			want = append(want, m.Version)
		}
		if !slices.Equal(all, want) {
			t.Fatalf("versions applied across instances = %v, want each of %v exactly once", all, want)
		}
	})
}

// nodeFirst rotates a Galera host list so instance i prefers node i; other engines are unchanged.
func nodeFirst(db config.DB, i int) config.DB {
	if len(db.Hosts) > 1 {
		i %= len(db.Hosts)
		db.Hosts = append(slices.Clone(db.Hosts[i:]), db.Hosts[:i]...)
	}
	return db
}

func TestUsers(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		now := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
		s := open(t, db, store.WithClock(func() time.Time { return now }))
		confirmed := now.Add(-time.Hour)
		u := &gatehouse.User{Email: "Alice@Example.COM", PasswordHash: "$2a$12$hash", PasswordScheme: "bcrypt",
			Active: true, ConfirmedAt: &confirmed, Roles: []gatehouse.Role{gatehouse.RoleMaintainer, gatehouse.RoleViewer}}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if u.ID == 0 || u.SecurityStamp == "" || !u.CreatedAt.Equal(now.Truncate(time.Microsecond)) {
			t.Fatalf("created user = %+v", u)
		}
		got, err := s.UserByEmail(ctx, "  alice@example.com ")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || got.Email != "Alice@Example.COM" || got.PasswordHash != u.PasswordHash ||
			got.PasswordScheme != "bcrypt" || !got.Active || got.ConfirmedAt == nil ||
			!got.ConfirmedAt.Equal(confirmed.Truncate(time.Microsecond)) || got.SecurityStamp != u.SecurityStamp ||
			!slices.Equal(got.Roles, u.Roles) || !got.CreatedAt.Equal(u.CreatedAt) {
			t.Fatalf("UserByEmail = %+v, want %+v", got, u)
		}
		byID, err := s.UserByID(ctx, u.ID)
		if err != nil || byID.Email != u.Email {
			t.Fatalf("UserByID = %+v, %v", byID, err)
		}
		// Case-insensitive uniqueness.
		err = s.CreateUser(ctx, &gatehouse.User{Email: "ALICE@example.com"})
		if gatehouse.ErrorCode(err) != gatehouse.EConflict {
			t.Fatalf("duplicate email: %v, want conflict", err)
		}
		for _, tc := range []struct {
			name string
			err  error
		}{
			{"unknown id", func() error { _, err := s.UserByID(ctx, u.ID+1000); return err }()},
			{"unknown email", func() error { _, err := s.UserByEmail(ctx, "bob@example.com"); return err }()},
		} {
			if gatehouse.ErrorCode(tc.err) != gatehouse.ENotFound {
				t.Errorf("%s: %v, want not_found", tc.name, tc.err)
			}
		}
		if err := s.CreateUser(ctx, &gatehouse.User{Email: "x@example.com", Roles: []gatehouse.Role{"root"}}); gatehouse.ErrorCode(err) != gatehouse.EInvalid {
			t.Errorf("unknown role: %v, want invalid", err)
		}
		if n, err := s.CountUsers(ctx); err != nil || n != 1 {
			t.Errorf("CountUsers = %d, %v; want 1 (failed creations must leave nothing)", n, err)
		}
	})
}

// Hostile strings round-trip unchanged on every engine.
func TestHostileStringsRoundTrip(t *testing.T) {
	hostile := []string{
		`O'Brien "quoted" \backslash\ \\double`,
		`100% _under_ %%`,
		"emoji 🦫🔐 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
		"right\u200fto\u202eleft \u05e9\u05dc\u05d5\u05dd",
		`'; DROP TABLE users; --`,
		"tab\tnew\nline\r",
		strings.Repeat("long✓", 400), // 2000 runes, 3.2 kB
	}
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		owner := &gatehouse.User{Email: `o'hara+%_\@example.com`, Active: true}
		if err := s.CreateUser(ctx, owner); err != nil {
			t.Fatal(err)
		}
		got, err := s.UserByEmail(ctx, owner.Email)
		if err != nil || got.Email != owner.Email {
			t.Fatalf("hostile email round trip = %+v, %v", got, err)
		}
		// A LIKE-pattern email must not match other users.
		if _, err := s.UserByEmail(ctx, "%"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("UserByEmail(%%) = %v, want not_found", err)
		}
		for i, h := range hostile {
			name := h
			if len([]rune(name)) > 200 {
				name = string([]rune(name)[:200])
			}
			if problem := gatehouse.DisplayTextProblem(name, false); problem != "" {
				// Control and bidi characters are refused in names (they are shown to others
				// as labels); the description still takes them round.
				err := s.CreateTeam(ctx, &gatehouse.Team{Name: name}, owner.ID)
				if gatehouse.ErrorFields(err)["name"] != problem {
					t.Fatalf("%d: name %q: %v, want invalid naming name", i, name, err)
				}
				name = fmt.Sprintf("hostile %d", i)
			}
			tm := &gatehouse.Team{Name: name, Description: h}
			if err := s.CreateTeam(ctx, tm, owner.ID); err != nil {
				t.Fatalf("%d: %v", i, err)
			}
			back, err := s.TeamByID(ctx, tm.ID)
			if err != nil {
				t.Fatal(err)
			}
			if back.Name != name || back.Description != h {
				t.Errorf("%d: round trip changed the text:\n got %q / %q\nwant %q / %q", i, back.Name, back.Description, name, h)
			}
		}
		// 10 kB: the longest text column (description) holds 2000 characters of 4 bytes and more
		// is refused with a field error, never truncated.
		big := strings.Repeat("🦫", 2000) // 8 kB
		tm := &gatehouse.Team{Name: "big", Description: big}
		if err := s.CreateTeam(ctx, tm, owner.ID); err != nil {
			t.Fatal(err)
		}
		if back, err := s.TeamByID(ctx, tm.ID); err != nil || back.Description != big {
			t.Fatalf("8 kB description did not round-trip: %v", err)
		}
		err = s.CreateTeam(ctx, &gatehouse.Team{Name: "too big", Description: strings.Repeat("x", 10_000)}, owner.ID)
		if gatehouse.ErrorCode(err) != gatehouse.EInvalid || gatehouse.ErrorFields(err)["description"] == "" {
			t.Fatalf("10 kB description: %v, want invalid naming description", err)
		}
	})
}

func TestTeamsAndMemberships(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		a := &gatehouse.User{Email: "a@example.com", Active: true}
		b := &gatehouse.User{Email: "b@example.com", Active: true}
		for _, u := range []*gatehouse.User{a, b} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		tm := &gatehouse.Team{Name: "Platform"}
		if err := s.CreateTeam(ctx, tm, a.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMembership(ctx, &gatehouse.Membership{TeamID: tm.ID, UserID: b.ID, Role: gatehouse.TeamViewer}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMembership(ctx, &gatehouse.Membership{TeamID: tm.ID, UserID: b.ID, Role: gatehouse.TeamMember}); err != nil {
			t.Fatal(err)
		}
		ms, err := s.Memberships(ctx, b.ID)
		if err != nil || len(ms) != 1 || ms[0].Role != gatehouse.TeamMember || ms[0].TeamID != tm.ID {
			t.Fatalf("Memberships(b) = %+v, %v", ms, err)
		}
		ms, err = s.Memberships(ctx, a.ID)
		if err != nil || len(ms) != 1 || ms[0].Role != gatehouse.TeamOwner {
			t.Fatalf("Memberships(a) = %+v, %v", ms, err)
		}
		if err := s.SetMembership(ctx, &gatehouse.Membership{TeamID: tm.ID, UserID: b.ID, Role: "god"}); gatehouse.ErrorCode(err) != gatehouse.EInvalid {
			t.Fatalf("bad team role: %v", err)
		}
		if _, err := s.TeamByID(ctx, tm.ID+999); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("unknown team: %v", err)
		}
		// A team for a user that does not exist is refused and leaves no team behind.
		if err := s.CreateTeam(ctx, &gatehouse.Team{Name: "orphan"}, 987654); err == nil {
			t.Fatal("CreateTeam with unknown owner succeeded")
		}
	})
}

// Several instances creating the default admin at once create exactly one.
func TestEnsureAdminConcurrent(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		stores := []*store.Store{open(t, nodeFirst(db, 0)), open(t, nodeFirst(db, 1)), open(t, nodeFirst(db, 2))}
		if ok, err := stores[0].AdminExists(ctx); ok || err != nil {
			t.Fatalf("AdminExists on an empty database = %v, %v", ok, err)
		}
		var wg sync.WaitGroup
		created := make([]bool, 6)
		errs := make([]error, 6)
		for i := range created {
			wg.Go(func() {
				created[i], errs[i] = stores[i%3].EnsureAdmin(ctx, &gatehouse.User{Email: "admin@localhost.local", Active: true, MustChangePassword: true})
			})
		}
		wg.Wait()
		n := 0
		for i := range created {
			if errs[i] != nil {
				t.Fatalf("EnsureAdmin %d: %v", i, errs[i])
			}
			if created[i] {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d instances created the admin, want exactly 1", n)
		}
		if ok, err := stores[2].AdminExists(ctx); !ok || err != nil {
			t.Fatalf("AdminExists after EnsureAdmin = %v, %v", ok, err)
		}
		u, err := stores[0].UserByEmail(ctx, "admin@localhost.local")
		if err != nil || !u.HasRole(gatehouse.RoleAdmin) || !u.MustChangePassword {
			t.Fatalf("admin = %+v, %v", u, err)
		}
		if c, err := stores[1].EnsureAdmin(ctx, &gatehouse.User{Email: "other@example.com"}); c || err != nil {
			t.Fatalf("EnsureAdmin with an admin present = %v, %v", c, err)
		}
	})
}

// When no admin exists and the default admin's address belongs to another account, EnsureAdmin
// says so instead of silently leaving the service without an admin.
func TestEnsureAdminAddressTaken(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		if err := s.CreateUser(ctx, &gatehouse.User{Email: "admin@localhost.local", Roles: []gatehouse.Role{gatehouse.RoleViewer}}); err != nil {
			t.Fatal(err)
		}
		c, err := s.EnsureAdmin(ctx, &gatehouse.User{Email: "Admin@localhost.local"})
		if c || gatehouse.ErrorCode(err) != gatehouse.EConflict {
			t.Fatalf("EnsureAdmin = %v, %v; want a conflict", c, err)
		}
	})
}

// Concurrent updates of one row through different instances (on Galera: different nodes, so
// certification conflicts) lose nothing: conflicting transactions are retried whole.
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		stores := []*store.Store{open(t, nodeFirst(db, 0)), open(t, nodeFirst(db, 1)), open(t, nodeFirst(db, 2))}
		u := &gatehouse.User{Email: "busy@example.com", Active: true}
		if err := stores[0].CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		const workers, each = 6, 15
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Go(func() {
				for range each {
					if err := stores[w%3].RecordLogin(ctx, u.ID, fmt.Sprintf("10.0.0.%d", w)); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("RecordLogin: %v", err)
		}
		got, err := stores[0].UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LoginCount != workers*each {
			t.Fatalf("login_count = %d, want %d", got.LoginCount, workers*each)
		}
		var retries int64
		for _, s := range stores {
			retries += s.Retries()
		}
		t.Logf("%s: %d transaction retries", db.Type, retries)
	})
}

// A domain error ends a transaction at once, without retry, and leaves nothing written.
func TestInTxRollbackAndDomainErrors(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		calls := 0
		err := s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			calls++
			if _, err := tx.NewRaw("INSERT INTO teams (name, description, created_at, updated_at) VALUES (?, ?, ?, ?)",
				"half", "", time.Now().UTC(), time.Now().UTC()).Exec(ctx); err != nil {
				return err
			}
			return gatehouse.FieldError("name", "rejected after the insert")
		})
		if gatehouse.ErrorCode(err) != gatehouse.EInvalid || calls != 1 {
			t.Fatalf("InTx = %v after %d calls, want invalid after 1", err, calls)
		}
		var n int
		if err := s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return tx.NewRaw("SELECT COUNT(*) FROM teams WHERE name = ?", "half").Scan(ctx, &n)
		}); err != nil || n != 0 {
			t.Fatalf("half-written team rows = %d, %v; want 0", n, err)
		}
	})
}

func TestOpenTimesOut(t *testing.T) {
	db := config.Defaults().DB
	db.Type = config.DBPostgres
	db.Hosts = []string{"127.0.0.1:1"} // nothing listens on port 1
	db.ConnectTimeout = time.Second
	db.PoolSize = 2
	start := time.Now()
	_, err := store.Open(context.Background(), db)
	if err == nil || !strings.Contains(err.Error(), "DB_CONNECT_TIMEOUT") {
		t.Fatalf("Open = %v, want a timeout error naming DB_CONNECT_TIMEOUT", err)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatalf("Open took %s with a 1s timeout", time.Since(start))
	}
}
