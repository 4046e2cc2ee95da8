package app_test

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

const (
	dashboardFile = "../../deploy/grafana/gatehouse-dashboard.json"
	alertsFile    = "../../deploy/prometheus/alerts.yml"
)

// scrapedNames returns the metric names a running instance exposes, after a few requests so
// that the per-route series exist.
func scrapedNames(t *testing.T) map[string]bool {
	e := start(t, testConfig(testdb.New(t, config.DBSQLite)), false)
	e.createUser("ann@example.com", "correct horse battery staple")
	tk := e.login("ann@example.com", "correct horse battery staple")
	e.expect(e.do("GET", "/api/v1/me", tk.AccessToken, nil), http.StatusOK, "")
	e.expect(e.do("GET", "/api/v1/nothing-here", "", nil), http.StatusNotFound, "not_found")
	names := map[string]bool{}
	for series := range e.scrape() {
		if i := strings.IndexByte(series, '{'); i >= 0 {
			series = series[:i]
		}
		names[series] = true
	}
	return names
}

// quoted removes PromQL string literals (label values, such as route!="/metrics"), so that
// only names remain to be matched.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// metricRef matches the metric names Gatehouse and its client library export, by prefix, and
// Prometheus's own `up`. Label names (route, code, le, instance, …) never start with these.
var metricRef = regexp.MustCompile(`\b(?:gatehouse|go|process)_[a-zA-Z0-9_:]+\b|\bup\b`)

func metricsIn(expr string) []string {
	return metricRef.FindAllString(quoted.ReplaceAllString(expr, `""`), -1)
}

// dashboardExprs returns every PromQL expression of the dashboard: the panels' targets (in
// rows too) and the templating queries.
func dashboardExprs(t *testing.T) []string {
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title      string            `json:"title"`
		UID        string            `json:"uid"`
		Panels     []json.RawMessage `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("%s: no title, uid or panels", dashboardFile)
	}
	type panel struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
		Panels []json.RawMessage `json:"panels"`
	}
	var exprs []string
	var walk func([]json.RawMessage)
	walk = func(raw []json.RawMessage) {
		for _, r := range raw {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatal(err)
			}
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("panel %q has an empty query", p.Title)
				}
				exprs = append(exprs, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Definition != "" { // the data source variable has none
			exprs = append(exprs, v.Definition)
		}
	}
	return exprs
}

// alertExprs returns the expression of every rule of alerts.yml, checking that each alert has
// a severity and a summary. The file keeps each expression on one line so that this needs no
// YAML library; promtool checks the file properly in scripts/test.
func alertExprs(t *testing.T) []string {
	b, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var exprs []string
	for _, rule := range strings.Split(string(b), "- alert: ")[1:] {
		name, _, _ := strings.Cut(rule, "\n")
		m := regexp.MustCompile(`(?m)^\s+expr: (.+)$`).FindStringSubmatch(rule)
		if m == nil || strings.HasPrefix(strings.TrimSpace(m[1]), "|") || strings.HasPrefix(strings.TrimSpace(m[1]), ">") {
			t.Errorf("alert %s: no single-line expr", name)
			continue
		}
		if !strings.Contains(rule, "severity: ") || !strings.Contains(rule, "summary: ") {
			t.Errorf("alert %s: needs a severity label and a summary annotation", name)
		}
		exprs = append(exprs, m[1])
	}
	if len(exprs) == 0 {
		t.Fatalf("%s: no alerts", alertsFile)
	}
	return exprs
}

// Every metric the Grafana dashboard and the Prometheus alert rules use is one a running
// Gatehouse exports (after a few requests), so neither can silently show nothing.
func TestDashboardAndAlertMetrics(t *testing.T) {
	exported := scrapedNames(t)
	exported["up"] = true // recorded by Prometheus for every scrape target
	check := func(file string, exprs []string) {
		used := 0
		for _, expr := range exprs {
			refs := metricsIn(expr)
			if len(refs) == 0 && !strings.Contains(expr, "$__") {
				t.Errorf("%s: no Gatehouse metric in %q", file, expr)
			}
			for _, name := range refs {
				used++
				if !exported[name] {
					t.Errorf("%s uses %s, which Gatehouse does not export (in %q)", file, name, expr)
				}
			}
		}
		if used == 0 {
			t.Errorf("%s uses no metric", file)
		}
	}
	check(dashboardFile, dashboardExprs(t))
	check(alertsFile, alertExprs(t))

	// And the dashboard covers what the issue asks it to show.
	all := strings.Join(dashboardExprs(t), "\n")
	for _, want := range []string{"gatehouse_http_requests_total", "gatehouse_http_request_duration_seconds_bucket",
		"gatehouse_logins_total", "gatehouse_lockouts_total", "gatehouse_outbox_depth", "gatehouse_outbox_oldest_age_seconds",
		"gatehouse_token_verifications_total", "go_sql_in_use_connections", "go_goroutines", "gatehouse_ready"} {
		if !slices.Contains(metricsIn(all), want) {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}
