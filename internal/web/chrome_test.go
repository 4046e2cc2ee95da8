package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehousehq/gatehouse/internal/browsertest"
)

// The browser tests drive Debian's Chromium (headless) through the DevTools protocol against
// the real app. They need the chromium binary: scripts/test installs it. Without it they skip,
// unless GATEHOUSE_TEST_REQUIRE is set (scripts/test sets it), when they fail instead: a test
// run that is meant to be complete must not pass by skipping them.

// Viewports of the screenshots and layout assertions.
var (
	desktop = viewport{"desktop", 1280, 800}
	phone   = viewport{"phone", 375, 812}
)

type viewport struct {
	name          string
	width, height int64
}

func (v viewport) String() string { return fmt.Sprintf("%dx%d", v.width, v.height) }

// artifactsDir is where screenshots go: GATEHOUSE_TEST_ARTIFACTS, or test-artifacts/screenshots
// beside the package (ignored by git). They outlive the test, for people to look at.
func artifactsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("GATEHOUSE_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("test-artifacts", "screenshots")
	} else {
		dir = filepath.Join(dir, "screenshots")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return dir
}

// chrome is one headless Chromium with a fresh profile, showing one viewport.
type chrome struct {
	t    testing.TB
	ctx  context.Context
	site *site
	vp   viewport

	mu       sync.Mutex
	problems []string // console errors: CSP violations, script exceptions, failed loads
}

// expectedConsoleError reports errors that the tests cause on purpose: the pages answer a
// failed sign-in or a refused request with a 4xx status, which Chromium logs as a failed load.
func expectedConsoleError(msg string) bool {
	return strings.Contains(msg, "Failed to load resource: the server responded with a status of 4")
}

func (s *site) chrome(vp viewport) *chrome {
	t := s.t
	t.Helper()
	ctx, cancel := browsertest.Start(t,
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(int(vp.width), int(vp.height)),
	)
	c := &chrome{t: t, ctx: ctx, site: s, vp: vp}
	c.do() // start the browser and open the tab, so that the console is watched from the first page
	messages := chromedp.Console(ctx)
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				c.mu.Lock()
				c.problems = append(c.problems, m.Text)
				c.mu.Unlock()
			}
		}
	}()
	// Every page must run without a console error: a CSP violation (an inline script or style,
	// an image from elsewhere) or a script error shows there.
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, p := range c.problems {
			if !expectedConsoleError(p) {
				t.Errorf("browser console error: %s", p)
			}
		}
	})
	t.Cleanup(func() { cancel(); <-watching })
	if vp.width < 768 {
		c.do(chromedp.EmulateViewport(vp.width, vp.height, chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateScale(2)))
	} else {
		c.do(chromedp.EmulateViewport(vp.width, vp.height))
	}
	return c
}

func (c *chrome) do(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, steps...); err != nil {
		c.t.Fatalf("browser: %v%s", err, c.where())
	}
}

// where describes the page shown, for failure messages.
func (c *chrome) where() string { return browsertest.Where(c.ctx, 1500) }

// submit clicks a button that loads a new page and waits until that page has loaded.
func (c *chrome) submit(sel string) {
	c.t.Helper()
	if _, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`window.__ghOldPage = true`)); err != nil {
		c.t.Fatalf("mark page: %v", err)
	}
	c.click(sel)
	c.waitNewPage()
}

// waitNewPage waits until the page marked by submit has been replaced and the new one loaded.
func (c *chrome) waitNewPage() {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		done, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`window.__ghOldPage !== true && document.readyState === "complete"`))
		if err == nil && done {
			return
		}
		if time.Now().After(deadline) || c.ctx.Err() != nil {
			c.t.Fatalf("no new page after the click%s", c.where())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// open loads a page of the site and waits for it.
func (c *chrome) open(path string) {
	c.t.Helper()
	c.do(chromedp.Navigate(c.site.srv.URL+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// path is the path (and query) of the page shown now.
func (c *chrome) path() string {
	c.t.Helper()
	loc, err := chromedp.Run(c.ctx, chromedp.Location())
	if err != nil {
		c.t.Fatal(err)
	}
	return strings.TrimPrefix(loc, c.site.srv.URL)
}

// waitPath waits until the page shown is path (after a form post and its redirect).
func (c *chrome) waitPath(path string) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		p := c.path()
		if p == path || strings.HasPrefix(p, path+"#") || (strings.Contains(path, "?") == false && strings.HasPrefix(p, path+"?")) {
			c.do(chromedp.WaitReady(chromedp.CSS("body")))
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the browser is not at %s%s", path, c.where())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *chrome) text(sel string) string {
	c.t.Helper()
	s, err := browsertest.Text(c.ctx, sel)
	if err != nil {
		c.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// eval runs JavaScript in the page.
func eval[T any](c *chrome, js string) T {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		c.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// fill types into a form field.
func (c *chrome) fill(sel, value string) {
	c.t.Helper()
	c.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), value))
}

func (c *chrome) click(sel string) {
	c.t.Helper()
	c.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

var unsafeName = regexp.MustCompile(`[^a-z0-9_-]+`)

// shot saves a full-page screenshot as <dir>/<name>-<viewport>.png.
func (c *chrome) shot(name string) {
	c.t.Helper()
	png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatalf("screenshot: %v", err)
	}
	file := filepath.Join(artifactsDir(c.t), unsafeName.ReplaceAllString(strings.ToLower(name), "-")+"-"+c.vp.name+"-"+c.vp.String()+".png")
	if err := os.WriteFile(file, png, 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// credentialValues returns the values of every credential input of the page shown (email,
// password and username fields, hidden or not).
func (c *chrome) credentialValues() []string {
	c.t.Helper()
	return eval[[]string](c, `Array.from(document.querySelectorAll(
		'input[type=email], input[type=password], input[name=email], input[name=password], input[name=username], input[autocomplete=username], input[autocomplete=current-password], input[autocomplete=new-password]'
	)).map(i => i.name + "=" + i.value)`)
}

func (c *chrome) expectNoCredentialValues(where string) {
	c.t.Helper()
	vals := c.credentialValues()
	if len(vals) == 0 {
		c.t.Fatalf("%s: no credential inputs found", where)
	}
	for _, v := range vals {
		if !strings.HasSuffix(v, "=") {
			c.t.Fatalf("%s: a credential input has a value: %q", where, v)
		}
	}
}

// login signs in through the login form.
func (c *chrome) login(email, password string) {
	c.t.Helper()
	c.open("/login")
	c.fill("#email", email)
	c.fill("#password", password)
	c.submit("form[action='/login'] button[type=submit]")
}

// signOut presses the top bar's sign-out button.
func (c *chrome) signOut() {
	c.t.Helper()
	c.submit(".topbar form[action='/logout'] button")
	c.waitPath("/login")
}

// scrollsSideways reports whether the page shown is wider than the viewport. The width is the
// viewport's own, not window.innerWidth: with mobile emulation the layout viewport grows to fit
// a page that is too wide, and innerWidth grows with it.
func (c *chrome) scrollsSideways() bool {
	c.t.Helper()
	return eval[int64](c, `document.documentElement.scrollWidth`) > c.vp.width
}
