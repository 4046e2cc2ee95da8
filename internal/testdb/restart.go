package testdb

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Variables of the destructive tests (database restarts, several instances behind HAProxy).
const (
	// EnvDBSDir is the directory scripts/test and scripts/dbs started the servers under; its
	// postgres/restart and mariadb/restart scripts restart them (scripts/lib/databases.sh).
	EnvDBSDir = "GATEHOUSE_TEST_DBS_DIR"
	// EnvDestructive=1 enables the tests named TestDestructive*, which restart or kill the
	// database servers. scripts/test runs them in the same step as TestGaleraNodeKill*, after
	// every other test, one package at a time.
	EnvDestructive = "GATEHOUSE_TEST_DESTRUCTIVE"
)

// SkipUnlessDestructive skips a test that restarts or kills database servers unless
// GATEHOUSE_TEST_DESTRUCTIVE=1. Name such tests TestDestructive*.
func SkipUnlessDestructive(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvDestructive) != "1" {
		t.Skipf("destructive test (restarts database servers): runs only with %s=1 (scripts/test sets it in a step of its own)", EnvDestructive)
	}
}

// RestartServer restarts the test server of engine (postgres or mariadb) through the restart
// script scripts/lib/databases.sh wrote next to it, and returns once the server accepts
// connections again. PostgreSQL restarts with `pg_ctl restart -m fast` (every session is ended
// with SQLSTATE 57P01); MariaDB shuts down cleanly (SIGTERM) and starts again. args go to the
// script (postgres: the pg_ctl mode; mariadb: --kill for SIGKILL). It skips the test when the
// servers were not started by scripts/test or scripts/dbs (GATEHOUSE_TEST_DBS_DIR unset).
func RestartServer(t testing.TB, engine string, args ...string) {
	t.Helper()
	script := RestartScript(t, engine)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, script, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("testdb: restarting %s (%s): %v\n%s", engine, script, err, out)
	}
}

// RestartScript returns the path of engine's restart script, skipping the test when there is
// none (failing it when GATEHOUSE_TEST_REQUIRE names the engine).
func RestartScript(t testing.TB, engine string) string {
	t.Helper()
	serverHosts(t, engine) // skips or fails when the engine is not configured
	dir := strings.TrimSpace(os.Getenv(EnvDBSDir))
	var script string
	if dir != "" {
		script = filepath.Join(dir, engine, "restart")
		if _, err := os.Stat(script); err != nil { //nolint:gosec // G703: the directory scripts/test or scripts/dbs made.
			script = ""
		}
	}
	if script == "" {
		if required(t)[engine] {
			t.Fatalf("testdb: no restart script for %s under %s=%q (servers started by an older scripts/lib/databases.sh?)", engine, EnvDBSDir, dir)
		}
		t.Skipf("testdb: no restart script for %s (%s=%q)", engine, EnvDBSDir, dir)
	}
	return script
}
