package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/token"
)

const keysHelp = `Usage:
  gatehouse keys list
  gatehouse keys rotate [--activate-in 10m] [--alg EdDSA|ES256]
  gatehouse keys retire [--force] KID

Manages the JWT signing keys stored in the database (not with JWT_SIGNING_KEY_FILE).

  list    every key with its state: signing, next (published, signs from its activation
          time), verifying (stopped signing; tokens it signed are still accepted) or retired
  rotate  adds a key. Every instance publishes it in /.well-known/jwks.json within 30s and
          signs with it from --activate-in on (default 10m: longer than the JWKS cache
          lifetime of 5m, so relying parties know the key before they see a token signed
          by it). --activate-in 0 switches at once: for a compromised key.
  retire  stops a key from verifying. Refused while the key signs, and until every token it
          signed has expired (JWT_ACCESS_TTL + 30s leeway + 30s reload after it stopped
          signing); --force overrides both (the tokens are then refused: for a leaked key).

Instances pick every change up without a restart (reload every 30s, and at once, rate-limited,
when a token names a key they do not know yet). See docs/authentication.md.
`

func cmdKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "rotate" && args[0] != "retire") {
		if len(args) > 0 && isHelp(args[0]) {
			_, _ = fmt.Fprint(stdout, keysHelp)
			return exitOK
		}
		_, _ = fmt.Fprint(stderr, keysHelp)
		return exitConfig
	}
	sub := args[0]
	fs := newFlagSet("keys "+sub, stderr)
	activateIn := fs.Duration("activate-in", token.DefaultPublishDelay, "rotate: start signing after this long")
	alg := fs.String("alg", "", "rotate: EdDSA or ES256 (default JWT_SIGNING_ALG)")
	force := fs.Bool("force", false, "retire: even while tokens it signed are valid")
	if code, done := parseArgs(fs, keysHelp, args[1:], stdout, stderr); done {
		return code
	}
	if (sub == "retire") != (fs.NArg() == 1) || fs.NArg() > 1 {
		_, _ = fmt.Fprint(stderr, keysHelp)
		return exitConfig
	}
	a, code := startApp(ctx, getenv, stderr)
	if a == nil {
		return code
	}
	defer func() { _ = a.Close() }()
	fail := func(err error) int {
		_, _ = fmt.Fprintf(stderr, "gatehouse keys %s: %v\n", sub, err)
		return exitFail
	}
	switch sub {
	case "list":
		keys, err := a.Keys(ctx)
		if err != nil {
			return fail(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		_, _ = fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tSIGNS FROM\tNOTE")
		for _, k := range keys {
			note := ""
			switch {
			case k.RetiredAt != nil:
				note = "retired " + stamp(*k.RetiredAt)
			case !k.RetirableAt.IsZero():
				note = "retirable from " + stamp(k.RetirableAt)
			}
			_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.KID, k.Alg, k.State, stamp(k.CreatedAt), stamp(k.ActivatesAt), note)
		}
		_ = tw.Flush()
	case "rotate":
		k, err := a.RotateKey(ctx, *alg, *activateIn)
		if err != nil {
			return fail(err)
		}
		_, _ = fmt.Fprintf(stdout, "added key %s (%s): published within 30s, signs from %s\n", k.ID, k.Alg, stamp(k.ActivatesAt))
		if *activateIn < token.JWKSMaxAge+app.KeyReloadInterval {
			_, _ = fmt.Fprintf(stderr, "warning: --activate-in %s is shorter than the JWKS cache lifetime (%s) plus the reload interval (%s): services that cache the JWKS refuse new tokens until they fetch it again\n",
				*activateIn, token.JWKSMaxAge, app.KeyReloadInterval)
		}
	case "retire":
		if err := a.RetireKey(ctx, fs.Arg(0), *force); err != nil {
			return fail(err)
		}
		_, _ = fmt.Fprintf(stdout, "retired key %s: every instance stops trusting it within 30s\n", fs.Arg(0))
	}
	return exitOK
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
