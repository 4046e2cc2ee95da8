// Package browsertest starts Debian's headless Chromium for the browser tests (the web pages'
// and SSO's), so that both run the browser with the same flags and the same skip rules. Only
// tests import it.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Timeout bounds one browser: a hung page must fail its test, not the whole run.
const Timeout = 3 * time.Minute

// Path finds the browser (GATEHOUSE_TEST_CHROMIUM, else chromium on the PATH). Without one the
// test skips, or fails when GATEHOUSE_TEST_REQUIRE asks for a complete run (scripts/test sets it
// and installs Chromium).
func Path(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("GATEHOUSE_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, required := os.LookupEnv("GATEHOUSE_TEST_REQUIRE"); required {
		t.Fatal("chromium is not installed, and GATEHOUSE_TEST_REQUIRE asks for a complete run: install it (apt-get install chromium) or run scripts/test")
	}
	t.Skip("browser test skipped: chromium is not installed (apt-get install chromium; scripts/test does)")
	return ""
}

// Start launches a headless Chromium with a fresh profile and returns the context of its first
// tab, bounded by Timeout, and a cancel that ends it (also called at cleanup). The flags are the
// ones this machine needs: no sandbox (CI runs as root), and no background networking (the
// machine has no network; Chromium would flood it with refused connections).
func Start(t testing.TB, extra ...chromedp.ExecAllocatorOption) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Path(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, Timeout)
	cancel := func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	}
	t.Cleanup(cancel)
	return ctx, cancel
}

// Where describes the page a tab shows, for failure messages (best effort: the page may be
// gone): its address and the start of its text.
func Where(ctx context.Context, maxText int) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	txt, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if len(txt) > maxText {
		txt = txt[:maxText] + "…"
	}
	return "\n  at " + loc + "\n  " + strings.ReplaceAll(txt, "\n", "\n  ")
}

// Text reads the text of the first element matching sel. A page that has just been reached
// through redirects and self-posting forms may still swap its document while the element is
// read; DevTools then answers "No node with given id found" for a node of the old document.
// Text reads again in that case (for up to 10 s), so a test asserts on the page it arrived at,
// not on the timing of the swap. Any other error is returned at once.
func Text(ctx context.Context, sel string) (string, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err == nil || !strings.Contains(err.Error(), "No node with given id") || time.Now().After(deadline) {
			return s, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// AxeViolation is one accessibility rule a page breaks, as axe-core reports it.
type AxeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// Axe runs axe-core (GATEHOUSE_TEST_AXE names its axe.min.js; scripts/test installs it from the
// npm registry) on the page the tab shows and returns the violations of impact "serious" or
// "critical", the ones a page must not have. The script is evaluated through DevTools, which the
// page's Content-Security-Policy does not govern, so the page itself keeps its policy. Without
// the file the test skips, or fails when GATEHOUSE_TEST_REQUIRE asks for a complete run.
func Axe(t testing.TB, ctx context.Context) []AxeViolation {
	t.Helper()
	path := os.Getenv("GATEHOUSE_TEST_AXE")
	if path == "" {
		if _, required := os.LookupEnv("GATEHOUSE_TEST_REQUIRE"); required {
			t.Fatal("GATEHOUSE_TEST_AXE is not set, and GATEHOUSE_TEST_REQUIRE asks for a complete run: run scripts/test, which installs axe-core")
		}
		t.Skip("accessibility check skipped: set GATEHOUSE_TEST_AXE to axe-core's axe.min.js (scripts/test installs it)")
	}
	src, err := os.ReadFile(path) // #nosec G304 G703 -- the path is the test run's own setting, not input
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](string(src)+"\n;true")); err != nil {
		t.Fatalf("loading axe-core: %v", err)
	}
	var all []AxeViolation
	run := `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`
	all, err = chromedp.Run(ctx, chromedp.Evaluate[[]AxeViolation](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running axe-core: %v", err)
	}
	var bad []AxeViolation
	for _, v := range all {
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, v)
		}
	}
	return bad
}
