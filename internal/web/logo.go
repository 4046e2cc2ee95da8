package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"unicode/utf8"
)

// logo is the image served at /logo: BRAND_LOGO_PATH's file, or the default drawn with the
// brand name.
type logo struct {
	body        []byte
	contentType string
	etag        string
	// mark is the small version for the top bar and the favicon: the default logo without
	// the name, or BRAND_LOGO_PATH's file again.
	mark     []byte
	markEtag string
}

// maxLogoSize bounds BRAND_LOGO_PATH: a logo is a small picture, and it is held in memory.
const maxLogoSize = 2 << 20

func loadLogo(path, brand string) (logo, error) {
	var l logo
	if path == "" {
		var b bytes.Buffer
		if err := defaultLogo.Execute(&b, logoData(brand)); err != nil {
			return l, err
		}
		l.body, l.contentType = b.Bytes(), "image/svg+xml"
		l.mark = []byte(defaultMark)
	} else {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".png":
			l.contentType = "image/png"
		case ".svg":
			l.contentType = "image/svg+xml"
		case ".jpg", ".jpeg":
			l.contentType = "image/jpeg"
		default:
			return l, fmt.Errorf("BRAND_LOGO_PATH %s: not a .png, .svg, .jpg or .jpeg file", path)
		}
		info, err := os.Stat(path)
		if err != nil {
			return l, fmt.Errorf("BRAND_LOGO_PATH: %w", err)
		}
		if info.Size() > maxLogoSize {
			return l, fmt.Errorf("BRAND_LOGO_PATH %s: %d bytes; a logo must be at most 2 MiB", path, info.Size())
		}
		if l.body, err = os.ReadFile(path); err != nil { // #nosec G304 -- the operator names the file
			return l, fmt.Errorf("BRAND_LOGO_PATH: %w", err)
		}
		if ct := http.DetectContentType(l.body); l.contentType != "image/svg+xml" && ct != l.contentType {
			return l, fmt.Errorf("BRAND_LOGO_PATH %s: the file's content is %s, not %s", path, ct, l.contentType)
		}
	}
	if l.mark == nil {
		l.mark = l.body
	}
	l.etag, l.markEtag = etag(l.body), etag(l.mark)
	return l, nil
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

func (w *Web) handleLogo(rw http.ResponseWriter, r *http.Request) {
	serveImage(rw, r, w.logo.contentType, w.logo.body, w.logo.etag)
}

func (w *Web) handleLogoMark(rw http.ResponseWriter, r *http.Request) {
	serveImage(rw, r, w.logo.contentType, w.logo.mark, w.logo.markEtag)
}

func serveImage(rw http.ResponseWriter, r *http.Request, contentType string, body []byte, tag string) {
	h := rw.Header()
	h.Set("Content-Type", contentType)
	// An SVG opened on its own is a document: it may run nothing and load nothing.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", tag)
	if r.Header.Get("If-None-Match") == tag {
		rw.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = rw.Write(body)
}

type defaultLogoData struct {
	Name     string
	FontSize int
}

// logoData sizes the brand name so that it fits the logo's width whatever its length.
func logoData(brand string) defaultLogoData {
	n := utf8.RuneCountInString(brand)
	size := 54
	if n > 0 && 600/n < size {
		size = max(600/n, 10)
	}
	return defaultLogoData{Name: brand, FontSize: size}
}

// shield is the drawing of the default logo: a gate in a shield.
const shield = `<defs>
    <linearGradient id="g" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#2a5a8c"/>
      <stop offset="1" stop-color="#1b3a5c"/>
    </linearGradient>
  </defs>
  <path d="M180 14 L266 44 V112 C266 158 232 190 180 208 C128 190 94 158 94 112 V44 Z" fill="url(#g)"/>
  <path d="M180 24 L256 51 V112 C256 152 226 180 180 197 C134 180 104 152 104 112 V51 Z" fill="none" stroke="#ffffff" stroke-opacity="0.18" stroke-width="2"/>
  <path d="M132 168 V96 H146 V84 H160 V96 H173 V84 H187 V96 H200 V84 H214 V96 H228 V168 Z" fill="#ffffff"/>
  <path d="M164 168 V132 A16 16 0 0 1 196 132 V168 Z" fill="#1b3a5c"/>
  <rect x="142" y="112" width="10" height="16" rx="2" fill="#1b3a5c"/>
  <rect x="208" y="112" width="10" height="16" rx="2" fill="#1b3a5c"/>
  <rect x="178.5" y="136" width="3" height="32" fill="#ffffff" fill-opacity="0.35"/>`

// defaultMark is the shield alone, for small places.
const defaultMark = `<svg xmlns="http://www.w3.org/2000/svg" width="180" height="200" viewBox="90 10 180 200">
  ` + shield + `
</svg>
`

// defaultLogo is a gate in a shield above the brand name. text/template with the html
// escaper: the name is XML text.
var defaultLogo = template.Must(template.New("logo").Funcs(template.FuncMap{"xml": template.HTMLEscapeString}).Parse(
	`<svg xmlns="http://www.w3.org/2000/svg" width="360" height="300" viewBox="0 0 360 300" role="img" aria-label="{{xml .Name}}">
  ` + shield + `
  <text x="180" y="270" text-anchor="middle" font-family="'Inter', 'Segoe UI', 'Helvetica Neue', Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif" font-size="{{.FontSize}}" font-weight="700" letter-spacing="0.5" fill="#1b2b40">{{xml .Name}}</text>
</svg>
`))
