package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The API reference page, /api/docs: Swagger UI (the npm package swagger-ui-dist, vendored in
// swaggerui/ by scripts/vendor-swagger-ui, with its licences) renders the current API version's
// OpenAPI document in the browser. Nothing comes from a CDN. The page runs under the pages'
// Content-Security-Policy unchanged: Swagger UI sets its styles through the DOM (which
// style-src does not govern), loads no fonts or images from elsewhere, and the page's own
// script is an external file (static/apidocs.js).
//
// The renderer is 1.8 MB of JavaScript, so the binary holds it gzip-compressed (0.47 MB) and
// sends it so to every browser that accepts gzip (all of them); another client gets it
// decompressed on the fly.

//go:embed swaggerui/swagger-ui-bundle.js.gz swaggerui/swagger-ui.css.gz
var swaggerUI embed.FS

// DefaultAPIDocument is the document the reference page renders when Options.APIDocument is
// empty.
const DefaultAPIDocument = "/api/v1/openapi.json"

// gzipAsset is a file the binary holds gzip-compressed.
type gzipAsset struct {
	contentType string
	gz          []byte
	// etagGzip and etagPlain are strong entity tags of the two encodings (they are different
	// representations, so their tags must differ).
	etagGzip, etagPlain string
}

func loadGzipAsset(name, contentType string) (*gzipAsset, error) {
	gz, err := swaggerUI.ReadFile("swaggerui/" + name + ".gz")
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("web: %s.gz: %w", name, err)
	}
	// A corrupt file fails the start-up, not a browser.
	if _, err := io.Copy(io.Discard, zr); err != nil { // #nosec G110 -- our own embedded file, not input
		return nil, fmt.Errorf("web: %s.gz: %w", name, err)
	}
	sum := sha256.Sum256(gz)
	tag := hex.EncodeToString(sum[:12])
	return &gzipAsset{contentType: contentType, gz: gz, etagGzip: `"` + tag + `-gz"`, etagPlain: `"` + tag + `"`}, nil
}

func (a *gzipAsset) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	h := rw.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Vary", "Accept-Encoding")
	gz := acceptsGzip(r.Header.Get("Accept-Encoding"))
	tag := a.etagPlain
	if gz {
		tag = a.etagGzip
	}
	h.Set("ETag", tag)
	if noneMatch(r.Header.Get("If-None-Match"), tag) {
		rw.WriteHeader(http.StatusNotModified)
		return
	}
	if gz {
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(a.gz)))
		if r.Method != http.MethodHead {
			_, _ = rw.Write(a.gz) // #nosec G705 -- our own embedded file, not input
		}
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	// Checked when loaded, so this cannot fail but by the client going away.
	zr, err := gzip.NewReader(bytes.NewReader(a.gz))
	if err == nil {
		_, _ = io.Copy(rw, zr) // #nosec G110 -- our own embedded file, read in full at start-up
	}
}

// acceptsGzip reports whether an Accept-Encoding header admits gzip (RFC 9110 §12.5.3): named,
// or covered by *, with a non-zero weight.
func acceptsGzip(header string) bool {
	star := false
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		ok := true
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				ok = err == nil && q > 0
			}
		}
		if name == "gzip" {
			return ok
		}
		star = ok
	}
	return star
}

// noneMatch reports whether an If-None-Match header names tag (or is *).
func noneMatch(header, tag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == tag || t == "*" {
			return true
		}
	}
	return false
}

// apiDocs serves the reference page and its renderer's files.
type apiDocs struct {
	page     *template.Template
	document string
	bundle   *gzipAsset
	css      *gzipAsset
}

func newAPIDocs(document string) (*apiDocs, error) {
	if document == "" {
		document = DefaultAPIDocument
	}
	d := &apiDocs{document: document}
	var err error
	if d.page, err = template.ParseFS(assets, "templates/apidocs.html"); err != nil {
		return nil, err
	}
	if d.bundle, err = loadGzipAsset("swagger-ui-bundle.js", "text/javascript; charset=utf-8"); err != nil {
		return nil, err
	}
	if d.css, err = loadGzipAsset("swagger-ui.css", "text/css; charset=utf-8"); err != nil {
		return nil, err
	}
	return d, nil
}

func (w *Web) handleAPIDocs(rw http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := w.apiDocs.page.Execute(&buf, struct{ Brand, Document string }{w.brand, w.apiDocs.document}); err != nil {
		w.serverError(rw, r, err)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = rw.Write(buf.Bytes())
}
