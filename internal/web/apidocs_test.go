package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// fetched is an answer with its body as sent (not decompressed).
type fetched struct {
	StatusCode int
	Header     http.Header
}

// fetch sends a GET (or HEAD) with the Accept-Encoding and If-None-Match given (none when
// empty) and returns the answer with its body as sent (not decompressed).
func (s *site) fetch(method, path, acceptEncoding, ifNoneMatch string) (fetched, []byte) {
	s.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, s.srv.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	// An explicit Accept-Encoding keeps the transport from decompressing on its own.
	req.Header.Set("Accept-Encoding", acceptEncoding)
	if acceptEncoding == "" {
		req.Header.Set("Accept-Encoding", "identity")
	}
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return fetched{StatusCode: resp.StatusCode, Header: resp.Header}, body
}

// The reference page is a page (HTML, the pages' CSP unchanged) naming the current version's
// document; its renderer's files are sent gzip-compressed to clients that accept it and plain to
// the others, with an ETag per encoding.
func TestAPIDocsPageAndFiles(t *testing.T) {
	s := startSite(t, siteOptions{})
	resp, body := s.fetch("GET", "/api/docs", "gzip", "")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		resp.Header.Get("Content-Security-Policy") != wantCSP {
		t.Fatalf("GET /api/docs: %d %v", resp.StatusCode, resp.Header)
	}
	if !regexp.MustCompile(`data-openapi-url="/api/v[0-9]+/openapi\.json"`).Match(body) ||
		!strings.Contains(string(body), `<script src="/api/docs/swagger-ui-bundle.js" defer></script>`) ||
		strings.Contains(string(body), "<script>") || strings.Contains(string(body), "style=") {
		t.Fatalf("the page:\n%s", body)
	}

	for path, want := range map[string]struct{ ctype, start string }{
		"/api/docs/swagger-ui-bundle.js": {"text/javascript; charset=utf-8", "/*! For license information"},
		"/api/docs/swagger-ui.css":       {"text/css; charset=utf-8", ".swagger-ui"},
	} {
		zipped, zbody := s.fetch("GET", path, "br, gzip;q=0.8", "")
		plain, pbody := s.fetch("GET", path, "", "")
		if zipped.StatusCode != http.StatusOK || zipped.Header.Get("Content-Encoding") != "gzip" || zipped.Header.Get("Content-Type") != want.ctype ||
			zipped.Header.Get("Vary") != "Accept-Encoding" || plain.StatusCode != http.StatusOK || plain.Header.Get("Content-Encoding") != "" {
			t.Fatalf("%s: %d %v / %d %v", path, zipped.StatusCode, zipped.Header, plain.StatusCode, plain.Header)
		}
		zr, err := gzip.NewReader(bytes.NewReader(zbody))
		if err != nil {
			t.Fatal(err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(unzipped, pbody) || !bytes.HasPrefix(pbody, []byte(want.start)) || len(zbody) >= len(pbody)/2 {
			t.Fatalf("%s: %d bytes gzip, %d plain, the same: %v, %v", path, len(zbody), len(pbody), bytes.Equal(unzipped, pbody), err)
		}
		ztag, ptag := zipped.Header.Get("ETag"), plain.Header.Get("ETag")
		if ztag == "" || ptag == "" || ztag == ptag {
			t.Fatalf("%s: ETags %q and %q", path, ztag, ptag)
		}
		if r, b := s.fetch("GET", path, "gzip", ztag); r.StatusCode != http.StatusNotModified || len(b) != 0 {
			t.Fatalf("%s revalidated: %d, %d bytes", path, r.StatusCode, len(b))
		}
		if r, _ := s.fetch("GET", path, "gzip;q=0", ztag); r.StatusCode != http.StatusOK || r.Header.Get("Content-Encoding") != "" {
			t.Fatalf("%s with gzip refused: %d %v", path, r.StatusCode, r.Header)
		}
		if r, b := s.fetch("HEAD", path, "*", ""); r.StatusCode != http.StatusOK || r.Header.Get("Content-Encoding") != "gzip" || len(b) != 0 {
			t.Fatalf("HEAD %s: %d %v", path, r.StatusCode, r.Header)
		}
	}
	// The rest of /api/docs/ is the API's: its envelope answers.
	if r, b := s.fetch("GET", "/api/docs/index.html", "", ""); r.StatusCode != http.StatusNotFound || !strings.Contains(string(b), `"status":"error"`) {
		t.Fatalf("GET /api/docs/index.html: %d %s", r.StatusCode, b)
	}
}
