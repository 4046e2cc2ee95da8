package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Help goes to stdout exactly once with exit 0, and "gatehouse --help" is the overview of the
// commands, not serve's help; a usage error goes to stderr exactly once with exit 2. The flag
// package used to print the help on stderr by itself before the command printed it again.
func TestHelpOnceWhereAsked(t *testing.T) {
	noEnv := func(string) string { return "" }
	helps := []struct {
		args []string
		head string // the help's first line
	}{
		{[]string{"--help"}, "Gatehouse: accounts"},
		{[]string{"-h"}, "Gatehouse: accounts"},
		{[]string{"-help"}, "Gatehouse: accounts"},
		{[]string{"help"}, "Gatehouse: accounts"},
		{[]string{"serve", "--help"}, "Usage: gatehouse [serve]"},
		{[]string{"serve", "-h"}, "Usage: gatehouse [serve]"},
		{[]string{"migrate", "--help"}, "Usage: gatehouse migrate"},
		{[]string{"version", "--help"}, "Usage: gatehouse version"},
		{[]string{"user", "--help"}, "Usage:\n  gatehouse user create"},
		{[]string{"user", "create", "--help"}, "Usage:\n  gatehouse user create"},
		{[]string{"user", "list", "-h"}, "Usage:\n  gatehouse user create"},
		{[]string{"mail", "--help"}, "Usage: gatehouse mail list"},
		{[]string{"mail", "list", "--help"}, "Usage: gatehouse mail list"},
		{[]string{"import", "--help"}, "Usage: gatehouse import flask-security"},
		{[]string{"import", "flask-security", "--help"}, "Usage: gatehouse import flask-security"},
		{[]string{"keys", "--help"}, "Usage:\n  gatehouse keys list"},
		{[]string{"keys", "rotate", "--help"}, "Usage:\n  gatehouse keys list"},
		{[]string{"healthcheck", "--help"}, "Usage: gatehouse healthcheck"},
		{[]string{"openapi", "--help"}, "Usage: gatehouse openapi"},
		{[]string{"openapi", "-h"}, "Usage: gatehouse openapi"},
	}
	for _, tc := range helps {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tc.args, noEnv, &out, &errb)
			if code != exitOK {
				t.Errorf("exit %d, want 0", code)
			}
			if errb.Len() != 0 {
				t.Errorf("stderr should be empty, got:\n%s", errb.String())
			}
			if !strings.HasPrefix(out.String(), tc.head) {
				t.Errorf("stdout should start with %q, got:\n%s", tc.head, out.String())
			}
			if n := strings.Count(out.String(), firstLine(tc.head)); n != 1 {
				t.Errorf("the help appears %d times on stdout, want once:\n%s", n, out.String())
			}
		})
	}

	usageErrors := []struct {
		args []string
		head string
	}{
		{[]string{"--frobnicate"}, "Usage: gatehouse [serve]"},
		{[]string{"serve", "--frobnicate"}, "Usage: gatehouse [serve]"},
		{[]string{"version", "extra"}, "Usage: gatehouse version"},
		{[]string{"version", "-x"}, "Usage: gatehouse version"},
		{[]string{"serve", "extra"}, "Usage: gatehouse [serve]"},
		{[]string{"migrate", "sideways"}, "Usage: gatehouse migrate"},
		{[]string{"migrate", "-x"}, "Usage: gatehouse migrate"},
		{[]string{"user", "create", "--nope"}, "gatehouse user create"},
		{[]string{"mail", "list", "--nope"}, "Usage: gatehouse mail list"},
		{[]string{"keys", "rotate", "--nope"}, "gatehouse keys list"},
		{[]string{"healthcheck", "--nope"}, "Usage: gatehouse healthcheck"},
		{[]string{"openapi", "--nope"}, "Usage: gatehouse openapi"},
		{[]string{"openapi", "extra"}, "Usage: gatehouse openapi"},
		{[]string{"openapi", "-format", "xml"}, "Usage: gatehouse openapi"},
		{[]string{"import", "flask-security", "--nope"}, "Usage: gatehouse import flask-security"},
		{[]string{"frobnicate"}, "Gatehouse: accounts"},
	}
	for _, tc := range usageErrors {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			// A command that ignored its arguments would start serving: stop it soon.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			env := map[string]string{"DB_PATH": filepath.Join(t.TempDir(), "g.db"), "HTTP_ADDR": "127.0.0.1:0"}
			var out, errb bytes.Buffer
			code := run(ctx, tc.args, func(k string) string { return env[k] }, &out, &errb)
			if code != exitConfig {
				t.Errorf("exit %d, want %d", code, exitConfig)
			}
			if out.Len() != 0 {
				t.Errorf("stdout should be empty, got:\n%s", out.String())
			}
			if n := strings.Count(errb.String(), firstLine(tc.head)); n != 1 {
				t.Errorf("the help appears %d times on stderr, want once:\n%s", n, errb.String())
			}
		})
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i+1] + strings.SplitN(s[i+1:], "\n", 2)[0]
	}
	return s
}
