package browsertest_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehousehq/gatehouse/internal/browsertest"
)

// The accessibility check finds what it is there to find: a form field without a label and an
// image without a text alternative, and nothing on a page without them.
func TestAxeReportsViolations(t *testing.T) {
	ctx, _ := browsertest.Start(t)
	bad := `data:text/html,<!doctype html><html lang="en"><title>t</title><main><img src="x.png"><form><input type="text"></form></main></html>`
	if _, err := chromedp.Run(ctx, chromedp.Navigate(bad)); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, v := range browsertest.Axe(t, ctx) {
		found[v.ID] = true
	}
	if !found["image-alt"] || !found["label"] {
		t.Fatalf("violations found on a page without alt text and labels: %v", found)
	}
	good := `data:text/html,<!doctype html><html lang="en"><title>t</title><main><h1>Fine</h1><form><label for="a">Name</label><input id="a" type="text"></form></main></html>`
	if _, err := chromedp.Run(ctx, chromedp.Navigate(good)); err != nil {
		t.Fatal(err)
	}
	if v := browsertest.Axe(t, ctx); len(v) != 0 {
		t.Fatalf("violations on a page without any: %+v", v)
	}
}
