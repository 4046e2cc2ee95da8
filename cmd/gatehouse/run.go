package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/config"
)

// Exit codes: 2 is the usage and configuration error code of most Unix tools.
const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 2
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise it comes from the
// module's build information.
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if dirty {
				rev += "-dirty"
			}
			return rev
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
}

const usage = `Gatehouse: accounts, authorization, teams and an API convention for backend services.

Usage:
  gatehouse [serve]             run the service (the default)
  gatehouse migrate up|down|status
  gatehouse user create|set-password|reset-access|unlock|list
  gatehouse mail list [--status pending|sent|failed]
  gatehouse import flask-security --source URL [--role-map …] [--dry-run]
  gatehouse keys list|rotate|retire  JWT signing keys (see docs/authentication.md)
  gatehouse healthcheck [--live]     probe the local service (for container health checks)
  gatehouse openapi [-version N] [-format json|yaml]  print the API's OpenAPI document
  gatehouse version

Every command reads its configuration from the environment; see docs/configuration.md.
Run "gatehouse COMMAND --help" for a command's help.
`

// run is the whole program: main only wires the process to it, so tests can boot it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return runWithInput(ctx, args, getenv, os.Stdin, stdout, stderr)
}

// runWithInput is run with an explicit standard input, for the commands that read passwords.
func runWithInput(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && isHelp(args[0]) {
		// The overview of the commands, not serve's help: "gatehouse --help" is asked before
		// any command is chosen.
		_, _ = fmt.Fprint(stdout, usage)
		return exitOK
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, args, getenv, stdout, stderr)
	case "version":
		return cmdVersion(args, stdout, stderr)
	case "user":
		return cmdUser(ctx, args, getenv, stdin, stdout, stderr)
	case "mail":
		return cmdMail(ctx, args, getenv, stdout, stderr)
	case "import":
		return cmdImport(ctx, args, getenv, stdout, stderr)
	case "healthcheck":
		return cmdHealthcheck(ctx, args, getenv, stdout, stderr)
	case "keys":
		return cmdKeys(ctx, args, getenv, stdout, stderr)
	case "openapi":
		return cmdOpenAPI(args, stdout, stderr)
	}
	_, _ = fmt.Fprintf(stderr, "gatehouse: unknown command %q\n\n%s", cmd, usage)
	return exitConfig
}

// parseFlags parses a command's (flag-less) arguments and handles --help. done reports that the
// command must stop with code.
func parseFlags(name, help string, args []string, stdout, stderr io.Writer) (fs *flag.FlagSet, code int, done bool) {
	fs = newFlagSet(name, stderr)
	code, done = parseArgs(fs, help, args, stdout, stderr)
	return fs, code, done
}

// newFlagSet makes a command's flag set. Its Usage prints nothing: the flag package calls it
// on -h and on every parse error, before parseArgs decides where the help goes, which printed
// the help twice (stderr by the flag package, then stdout or stderr again).
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr) // the parse error's own line ("flag provided but not defined: -x")
	fs.Usage = func() {}
	return fs
}

// parseArgs parses args with fs: -h/--help prints help once on stdout (exit 0, done); a usage
// error has had its message printed on stderr by the flag package, and gets the help once there
// (exit 2, done).
func parseArgs(fs *flag.FlagSet, help string, args []string, stdout, stderr io.Writer) (code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, _ = fmt.Fprint(stdout, help)
			return exitOK, true
		}
		_, _ = fmt.Fprint(stderr, help)
		return exitConfig, true
	}
	return exitOK, false
}

// isHelp reports whether arg asks for help instead of naming a command.
func isHelp(arg string) bool {
	return oneOf(arg, "-h", "-help", "--help", "help")
}

// loadConfig loads the configuration and makes the logger, reporting problems on stderr.
func loadConfig(getenv func(string) string, stdout, stderr io.Writer) (*config.Config, *slog.Logger, bool) {
	cfg, err := config.Load(getenv)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return nil, nil, false
	}
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewJSONHandler(stdout, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(stdout, opts)
	}
	log := slog.New(h)
	warnUnknownVars(log, getenv)
	return cfg, log, true
}

// warnUnknownVars logs a warning for each variable of the environment that is named like one
// of Gatehouse's (DB_, SECURITY_, SMTP_, …) but is not one: a typo or another product's name
// would otherwise be ignored without a word. The names come from the process environment, and
// count when getenv (what the configuration is read through) sees a value for them.
func warnUnknownVars(log *slog.Logger, getenv func(string) string) {
	var names []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); name != "" && getenv(name) != "" {
			names = append(names, name)
		}
	}
	for _, u := range config.Unknown(names) {
		log.Warn("unknown configuration variable ignored: not in docs/configuration.md", "variable", u.Name, "closest", u.Closest)
	}
}

const versionHelp = `Usage: gatehouse version

Prints the build version, the Go version and the API versions.
`

func cmdVersion(args []string, stdout, stderr io.Writer) int {
	if fs, code, done := parseFlags("version", versionHelp, args, stdout, stderr); done || fs.NArg() > 0 {
		if !done {
			_, _ = fmt.Fprintf(stderr, "gatehouse version: unexpected arguments %q\n%s", fs.Args(), versionHelp)
			code = exitConfig
		}
		return code
	}
	_, _ = fmt.Fprintf(stdout, "gatehouse %s (%s, %s/%s)\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}

const migrateHelp = `Usage: gatehouse migrate up|down|status

  up      apply every pending migration (also done at start unless DB_AUTO_MIGRATE=false)
  down    roll back the latest migration
  status  list migrations and whether each is applied

Several instances may migrate at once: a database-wide lock makes each migration run once.
`

func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs, code, done := parseFlags("migrate", migrateHelp, args, stdout, stderr)
	if done {
		return code
	}
	if fs.NArg() != 1 || !oneOf(fs.Arg(0), "up", "down", "status") {
		_, _ = fmt.Fprint(stderr, migrateHelp)
		return exitConfig
	}
	cfg, log, ok := loadConfig(getenv, stderr, stderr)
	if !ok {
		return exitConfig
	}
	a, err := app.New(ctx, cfg, app.Options{Logger: log, SkipPrepare: true})
	if err != nil {
		log.Error("database unavailable", "error", err)
		return exitFail
	}
	defer func() { _ = a.Close() }()
	s := a.Store
	switch fs.Arg(0) {
	case "up":
		applied, err := s.Migrate(ctx)
		if err != nil {
			log.Error("migrate up failed", "error", err)
			return exitFail
		}
		_, _ = fmt.Fprintf(stdout, "applied %d migration(s)\n", len(applied))
	case "down":
		v, err := s.MigrateDown(ctx)
		if err != nil {
			log.Error("migrate down failed", "error", err)
			return exitFail
		}
		_, _ = fmt.Fprintf(stdout, "rolled back migration %d\n", v)
	case "status":
		st, err := s.MigrationStatus(ctx)
		if err != nil {
			log.Error("migrate status failed", "error", err)
			return exitFail
		}
		for _, m := range st {
			state := "pending"
			if m.Applied {
				state = "applied " + m.AppliedAt.UTC().Format(time.RFC3339)
			}
			_, _ = fmt.Fprintf(stdout, "%05d  %-32s %s\n", m.Version, m.Name, state)
		}
	}
	return exitOK
}

func oneOf(v string, set ...string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

// startApp loads the configuration and starts Gatehouse fully (migrations, default admin, keys)
// for the one-shot commands (user, keys, import). It returns nil and the exit code when either
// step fails, having reported why.
func startApp(ctx context.Context, getenv func(string) string, stderr io.Writer) (*app.App, int) {
	cfg, log, ok := loadConfig(getenv, stderr, stderr)
	if !ok {
		return nil, exitConfig
	}
	a, err := app.New(ctx, cfg, app.Options{Logger: log, Version: buildVersion()})
	if err != nil {
		log.Error("start-up failed", "error", err)
		return nil, exitFail
	}
	return a, exitOK
}
