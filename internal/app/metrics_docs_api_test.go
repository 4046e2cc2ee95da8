package app_test

import (
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// docs/api.md's "Metrics exported" table names every metric family /metrics exposes (it left
// out the license, process and Go series behind wildcards, and gatehouse_ready), and names no
// family that does not exist. The license gauges that appear only once they have a value are
// taken from the license collector's descriptions.
func TestMetricsDocumented(t *testing.T) {
	e := start(t, testConfig(testdb.New(t, config.DBSQLite)), false)
	e.createUser("ann@example.com", strongPassword)
	e.expect(e.do("GET", "/api/v1/me", e.login("ann@example.com", strongPassword).AccessToken, nil), http.StatusOK, "")
	r := e.do("GET", "/metrics", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /metrics: %d", r.Status)
	}
	exposed := map[string]bool{}
	for line := range strings.Lines(string(r.Raw)) {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "#" && f[1] == "TYPE" {
			exposed[f[2]] = true
		}
	}
	if e.app.License == nil {
		t.Fatal("the app has no license client")
	}
	descs := make(chan *prometheus.Desc)
	go func() { e.app.License.Collector().Describe(descs); close(descs) }()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range descs {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			exposed[m[1]] = true
		}
	}
	for _, want := range []string{"gatehouse_http_requests_total", "go_goroutines", "process_open_fds", "gatehouse_license_valid"} {
		if !exposed[want] {
			t.Fatalf("the scrape lacks %s; families: %v", want, exposed)
		}
	}

	b, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "Metrics exported:")
	j := strings.Index(doc[i:], "\n\n|")
	k := strings.Index(doc[i+j+2:], "\n\n")
	table := doc[i+j+2 : i+j+2+k]
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`((?:gatehouse|go|process|promhttp)_[a-z0-9_]+)`").FindAllStringSubmatch(table, -1) {
		documented[m[1]] = true
	}
	var missing, stale []string
	for name := range exposed {
		if !documented[name] {
			missing = append(missing, name)
		}
	}
	for name := range documented {
		if !exposed[name] {
			stale = append(stale, name)
		}
	}
	slices.Sort(missing)
	slices.Sort(stale)
	if len(missing) > 0 {
		t.Errorf("docs/api.md's metrics table lacks %d families /metrics exposes: %s", len(missing), strings.Join(missing, ", "))
	}
	if len(stale) > 0 {
		t.Errorf("docs/api.md's metrics table names families /metrics does not expose: %s", strings.Join(stale, ", "))
	}
}
