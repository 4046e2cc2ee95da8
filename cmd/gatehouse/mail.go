package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/gatehousehq/gatehouse/internal/app"
)

const mailHelp = `Usage: gatehouse mail list [--status pending|sent|failed] [--limit N]

Lists the email outbox, newest first: every message Gatehouse queued, whether it was delivered,
how many attempts it took, and why the last attempt failed. Messages that could not be
delivered are kept here with status failed; nothing is dropped silently.
`

func cmdMail(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "list" {
		if len(args) > 0 && isHelp(args[0]) {
			_, _ = fmt.Fprint(stdout, mailHelp)
			return exitOK
		}
		_, _ = fmt.Fprint(stderr, mailHelp)
		return exitConfig
	}
	fs := newFlagSet("mail list", stderr)
	status := fs.String("status", "", "only messages with this status")
	limit := fs.Int("limit", 50, "at most this many messages")
	if code, done := parseArgs(fs, mailHelp, args[1:], stdout, stderr); done {
		return code
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
	ms, err := a.Store.ListMail(ctx, *status, *limit)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "gatehouse mail list: %s\n", userMessage(err))
		return exitFail
	}
	_, _ = fmt.Fprintf(stdout, "%-6s %-8s %-4s %-20s %-32s %s\n", "ID", "STATUS", "TRY", "QUEUED", "TO", "SUBJECT / LAST ERROR")
	for _, m := range ms {
		line := m.Subject
		if m.LastError != "" {
			line += " / " + strings.ReplaceAll(m.LastError, "\n", " ")
		}
		_, _ = fmt.Fprintf(stdout, "%-6d %-8s %-4d %-20s %-32s %s\n", m.ID, m.Status, m.Attempts, m.CreatedAt.UTC().Format("2006-01-02 15:04:05"), m.To, line)
	}
	return exitOK
}
