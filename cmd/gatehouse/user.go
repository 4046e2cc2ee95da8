package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
)

const userHelp = `Usage:
  gatehouse user create --email EMAIL [--role admin|maintainer|viewer]... [--unconfirmed]
  gatehouse user set-password --email EMAIL
  gatehouse user reset-access --email EMAIL
  gatehouse user unlock --email EMAIL
  gatehouse user list

Passwords are read from the terminal (asked twice) or, when standard input is not a terminal,
from its first line; never from an argument, where other users and shell history could see it.
reset-access ends every session and token of the account at once. unlock lifts a lockout and the
login backoff of the account.
`

// roleFlags collects repeated --role flags.
type roleFlags []gatehouse.Role

func (r *roleFlags) String() string { return fmt.Sprint(*r) }

func (r *roleFlags) Set(v string) error {
	role := gatehouse.Role(strings.ToLower(v))
	if !role.Valid() {
		return fmt.Errorf("unknown role %q (admin, maintainer or viewer)", v)
	}
	*r = append(*r, role)
	return nil
}

func cmdUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || isHelp(args[0]) {
		w := stdout
		code := exitOK
		if len(args) == 0 {
			w, code = stderr, exitConfig
		}
		_, _ = fmt.Fprint(w, userHelp)
		return code
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("user "+sub, stderr)
	email := fs.String("email", "", "the account's email address")
	var roles roleFlags
	unconfirmed := false
	switch sub {
	case "create":
		fs.Var(&roles, "role", "a global role (repeatable; default viewer)")
		fs.BoolVar(&unconfirmed, "unconfirmed", false, "leave the email address unconfirmed")
	case "set-password", "reset-access", "unlock", "list":
	default:
		_, _ = fmt.Fprintf(stderr, "gatehouse user: unknown command %q\n\n%s", sub, userHelp)
		return exitConfig
	}
	if code, done := parseArgs(fs, userHelp, args, stdout, stderr); done {
		return code
	}
	if sub != "list" && *email == "" {
		_, _ = fmt.Fprintf(stderr, "gatehouse user %s: --email is required\n", sub)
		return exitConfig
	}
	a, code := startApp(ctx, getenv, stderr)
	if a == nil {
		return code
	}
	defer func() { _ = a.Close() }()

	fail := func(err error) int {
		_, _ = fmt.Fprintf(stderr, "gatehouse user %s: %s\n", sub, userMessage(err))
		return exitFail
	}
	switch sub {
	case "create":
		pw, err := readPassword(stdin, stderr)
		if err != nil {
			return fail(err)
		}
		if len(roles) == 0 {
			roles = roleFlags{gatehouse.RoleViewer}
		}
		u, err := a.Auth.CreateUser(ctx, *email, pw, roles, !unconfirmed)
		if err != nil {
			return fail(err)
		}
		_, _ = fmt.Fprintf(stdout, "created user %d %s (%s)\n", u.ID, u.Email, joinRoles(u.Roles))
	case "set-password":
		u, err := a.Store.UserByEmail(ctx, *email)
		if err != nil {
			return fail(err)
		}
		pw, err := readPassword(stdin, stderr)
		if err != nil {
			return fail(err)
		}
		if err := a.Auth.SetPassword(ctx, nil, u.ID, pw, authClientCLI()); err != nil {
			return fail(err)
		}
		_, _ = fmt.Fprintf(stdout, "password set for %s; every session of the account ended\n", u.Email)
	case "reset-access":
		u, err := a.Store.UserByEmail(ctx, *email)
		if err != nil {
			return fail(err)
		}
		if err := a.Auth.ResetAccess(ctx, nil, u.ID, authClientCLI()); err != nil {
			return fail(err)
		}
		_, _ = fmt.Fprintf(stdout, "every session and token of %s ended\n", u.Email)
	case "unlock":
		u, err := a.Store.UserByEmail(ctx, *email)
		if err != nil {
			return fail(err)
		}
		if err := a.Auth.Unlock(ctx, nil, u, authClientCLI()); err != nil {
			return fail(err)
		}
		_, _ = fmt.Fprintf(stdout, "%s unlocked\n", u.Email)
	case "list":
		var after int64
		_, _ = fmt.Fprintf(stdout, "%-8s %-40s %-22s %-7s %-9s %s\n", "ID", "EMAIL", "ROLES", "ACTIVE", "CONFIRMED", "LAST LOGIN")
		for {
			users, err := a.Store.ListUsers(ctx, after, 500)
			if err != nil {
				return fail(err)
			}
			for _, u := range users {
				last := "-"
				if u.CurrentLoginAt != nil {
					last = u.CurrentLoginAt.UTC().Format("2006-01-02 15:04")
				}
				_, _ = fmt.Fprintf(stdout, "%-8d %-40s %-22s %-7t %-9t %s\n", u.ID, u.Email, joinRoles(u.Roles), u.Active, u.ConfirmedAt != nil, last)
				after = u.ID
			}
			if len(users) < 500 {
				break
			}
		}
	}
	return exitOK
}

func joinRoles(rs []gatehouse.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

// userMessage is what the command prints for an error: for domain errors the message with the
// field problems; anything else is the operator's own environment and printed whole.
func userMessage(err error) string {
	if _, ok := errors.AsType[*gatehouse.Error](err); !ok {
		return err.Error()
	}
	msg := gatehouse.ErrorMessage(err)
	for f, p := range gatehouse.ErrorFields(err) {
		if !strings.HasPrefix(msg, f+": ") {
			msg += fmt.Sprintf(" (%s: %s)", f, p)
		}
	}
	return msg
}

// readPassword asks twice on a terminal, or reads one line from a pipe.
func readPassword(stdin io.Reader, prompt io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) { // #nosec G115 -- a file descriptor fits in int
		_, _ = fmt.Fprint(prompt, "Password: ")
		a, err := term.ReadPassword(int(f.Fd())) // #nosec G115
		_, _ = fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		_, _ = fmt.Fprint(prompt, "Repeat: ")
		b, err := term.ReadPassword(int(f.Fd())) // #nosec G115
		_, _ = fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}

func authClientCLI() auth.Client { return auth.Client{UserAgent: "gatehouse-cli"} }
