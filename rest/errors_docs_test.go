package rest

import (
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// docs/api.md's error table has a row for every code of the status table, with the same
// status and the status's name; it lacked 412 precondition_failed. A row for a code the status
// table does not know is a reason (a more specific code of one status, like email_confusable),
// and must name a status the table uses.
func TestErrorTableDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "\n## Error codes\n")
	if start < 0 {
		t.Fatal(`docs/api.md has no "## Error codes" section`)
	}
	section := doc[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| (\\d{3}) ([^|]+?) \\|")
	documented := map[string]int{}
	used := map[int]bool{}
	for _, status := range statusByCode {
		used[status] = true
	}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		status, _ := strconv.Atoi(m[2])
		documented[m[1]] = status
		// RFC 9110 renamed 413 "Content Too Large"; net/http still says "Request Entity Too Large".
		name := strings.TrimSpace(m[3])
		if text := http.StatusText(status); name != text && (status != 413 || name != "Content Too Large") {
			t.Errorf("docs/api.md: %s is %d %q, want %q", m[1], status, name, text)
		}
		if !used[status] {
			t.Errorf("docs/api.md: %s has status %d, which no code of rest's table has", m[1], status)
		}
	}
	for code, status := range statusByCode {
		got, ok := documented[string(code)]
		switch {
		case !ok:
			t.Errorf("docs/api.md's error table lacks %d %s", status, code)
		case got != status:
			t.Errorf("docs/api.md: %s is %d there, %d in rest's table", code, got, status)
		}
	}
}
