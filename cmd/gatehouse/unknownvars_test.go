package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A variable named like Gatehouse's but unknown to it is reported at start-up with the closest
// known name, instead of being ignored silently; variables of other software are not.
func TestUnknownVariableWarning(t *testing.T) {
	t.Setenv("DB_PATH", filepath.Join(t.TempDir(), "g.db"))
	t.Setenv("SECURITY_PASSWORD_COMPLEXITY", "none") // Flask-Security's name
	t.Setenv("SMTP_HSOT", "mail.example.com")
	t.Setenv("HTTP_PROXY", "http://proxy.example.com:3128")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "team=auth")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"migrate", "status"}, os.Getenv, &out, &errb); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(errb.String()), "\n") {
		var rec struct {
			Level    string `json:"level"`
			Msg      string `json:"msg"`
			Variable string `json:"variable"`
			Closest  string `json:"closest"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Variable != "" {
			if rec.Level != "WARN" || !strings.Contains(rec.Msg, "unknown configuration variable") {
				t.Errorf("unexpected record: %s", line)
			}
			got[rec.Variable] = rec.Closest
		}
	}
	want := map[string]string{
		"SECURITY_PASSWORD_COMPLEXITY": "SECURITY_PASSWORD_COMPLEXITY_CHECKER",
		"SMTP_HSOT":                    "SMTP_HOST",
	}
	if len(got) != len(want) || got["SECURITY_PASSWORD_COMPLEXITY"] != want["SECURITY_PASSWORD_COMPLEXITY"] || got["SMTP_HSOT"] != want["SMTP_HSOT"] {
		t.Errorf("warnings for %v, want %v; log:\n%s", got, want, errb.String())
	}
}
