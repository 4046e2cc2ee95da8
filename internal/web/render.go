package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/rest"
)

// page is what every template gets.
type page struct {
	Brand   string
	Title   string
	User    *gatehouse.User // the signed-in account, nil on anonymous pages
	Flashes []flash
	// Error is the form's message; Fields the message of each offending field; Form names
	// the form they belong to on a page with several.
	Error  string
	Fields map[string]string
	Form   string
	// Next is where a sign-in or re-authentication goes on to (a checked relative path).
	Next string
	// Restricted is set while the account may only change its password or set up a second
	// factor: the navigation then offers nothing else.
	Restricted bool
	// MinPassword is SECURITY_PASSWORD_LENGTH_MIN, for the hints of new-password fields.
	MinPassword int
	Data        any
}

// parsePages parses each page with the layout and the partials.
func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"when":      formatTime,
		"whenPtr":   formatTimePtr,
		"fieldErr":  func(p *page, f string) string { return p.Fields[f] },
		"hasPrefix": strings.HasPrefix,
		"device":    deviceName,
		"sortLabel": sortLabel,
	}
	base, err := template.New("layout").Funcs(funcs).ParseFS(assets, "templates/layouts/*.html", "templates/partials/*.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(assets, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		t, err := template.Must(base.Clone()).ParseFS(assets, n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", n, err)
		}
		pages[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return pages, nil
}

// render writes a page. Pages of a signed-in account, and every form that handles a secret,
// are never cached.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	t, ok := w.pages[name]
	if !ok {
		w.serverError(rw, r, fmt.Errorf("no template %q", name))
		return
	}
	p.Brand = w.brand
	if p.MinPassword = w.auth.Options().Policy.MinLength; p.MinPassword <= 0 {
		p.MinPassword = auth.DefaultPasswordLengthMin
	}
	if pr := principal(r); pr != nil {
		p.User = pr.User
		p.Restricted = auth.Gate(pr, auth.AccessFull) != nil // the one gate, as the pages and the API apply it
	}
	if manager(r) != nil {
		p.Flashes = append(w.popFlashes(r), p.Flashes...)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		w.serverError(rw, r, fmt.Errorf("rendering %s: %w", name, err))
		return
	}
	noStore(rw)
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	_, _ = rw.Write(b.Bytes())
}

// errorPage renders a plain error page.
func (w *Web) errorPage(rw http.ResponseWriter, r *http.Request, status int, title, msg string) {
	w.render(rw, r, status, "error", &page{Title: title, Error: msg, Data: status})
}

// notFound is the HTML 404 of every path outside the API.
func (w *Web) notFound(rw http.ResponseWriter, r *http.Request) {
	w.errorPage(rw, r, http.StatusNotFound, "Page not found", "There is no page at this address.")
}

// ErrorPage answers a request of the pages' chain with the error page: status, a title and a
// message the person can act on. It is the one error page, for the pages and for the single
// sign-on endpoints served behind them.
func (w *Web) ErrorPage(rw http.ResponseWriter, r *http.Request, status int, title, message string) {
	w.errorPage(rw, r, status, title, message)
}

// serverError logs the cause and shows a page that reveals nothing of it.
func (w *Web) serverError(rw http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	if gatehouse.ErrorCode(err) == gatehouse.EUnavailable {
		status = http.StatusServiceUnavailable
		if rest.ClientGone(r) {
			// The tab was closed or the browser navigated away: abandoned, not failed (the
			// access log records the 499; there is no one to show a page to).
			w.log.Debug("page abandoned by the client", "method", r.Method, "error", err)
			rw.WriteHeader(rest.StatusClientClosedRequest)
			return
		}
	}
	w.logFailure(r, err)
	t := w.pages["error"]
	var b bytes.Buffer
	if t == nil || t.ExecuteTemplate(&b, "layout", &page{Brand: w.brand, Title: "Something went wrong",
		Error: "The page could not be shown. Please try again in a moment.", Data: status}) != nil {
		http.Error(rw, "internal error", status)
		return
	}
	noStore(rw)
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	_, _ = rw.Write(b.Bytes())
}

// logFailure logs the cause of a failed page, with the stack of a recovered panic.
func (w *Web) logFailure(r *http.Request, err error) {
	attrs := []any{"method", r.Method, "path", r.URL.Path, "error", err}
	if st, ok := r.Context().Value(logStateKey{}).(*logState); ok {
		attrs = append(attrs, "request_id", st.requestID)
	}
	if st, ok := errors.AsType[rest.Stacker](err); ok {
		attrs = append(attrs, "stack", string(st.Stack()))
	}
	w.log.Error("page failed", attrs...)
}

// fail shows err on the form page: the client-safe message and the field errors of a domain
// error, a wait for rate limiting, and for anything unexpected, the server error page.
func (w *Web) fail(rw http.ResponseWriter, r *http.Request, name string, p *page, err error) {
	if status, ok := w.describe(rw, r, p, err); ok {
		w.render(rw, r, status, name, p)
	}
}

// describe puts err on p for the form to show and returns the status to answer with. For an
// unexpected error it shows the server error page instead and returns ok=false.
func (w *Web) describe(rw http.ResponseWriter, r *http.Request, p *page, err error) (status int, ok bool) {
	switch gatehouse.ErrorCode(err) {
	case gatehouse.EInternal, gatehouse.EUnavailable:
		w.serverError(rw, r, err)
		return 0, false
	}
	status = http.StatusBadRequest
	switch gatehouse.ErrorCode(err) {
	case gatehouse.EUnauthenticated:
		status = http.StatusUnauthorized
	case gatehouse.EForbidden:
		status = http.StatusForbidden
	case gatehouse.ENotFound:
		status = http.StatusNotFound
	case gatehouse.EConflict:
		status = http.StatusConflict
	case gatehouse.EPrecondition:
		status = http.StatusPreconditionFailed
	case gatehouse.ERateLimited:
		status = http.StatusTooManyRequests
		if e, isErr := errors.AsType[*gatehouse.Error](err); isErr && e.RetryAfter > 0 {
			rw.Header().Set("Retry-After", retryAfter(e.RetryAfter))
		}
	}
	fields := gatehouse.ErrorFields(err)
	if len(fields) > 0 {
		p.Fields = map[string]string{}
		for f, problem := range fields {
			p.Fields[f] = sentence(fieldLabel(f) + " " + problem)
		}
		if len(fields) == 1 {
			p.Error = "Please correct the field below."
		} else {
			p.Error = "Please correct the fields below."
		}
	} else {
		p.Error = sentence(gatehouse.ErrorMessage(err))
	}
	return status, true
}

// fieldLabel is how a form field is named in a message.
func fieldLabel(f string) string {
	switch f {
	case "email":
		return "Email"
	case "password":
		return "Password"
	case "current_password":
		return "Current password"
	case "new_password":
		return "New password"
	case "token":
		return "The link or code"
	case "code":
		return "The code"
	case "name":
		return "Name"
	case "scopes":
		return "Scopes"
	case "expires_at":
		return "Expiry"
	case "confirm_password":
		return "Confirmation"
	case "credential", "assertion":
		return "The security key's response"
	}
	return strings.ReplaceAll(sentence(f), "_", " ")
}

// sentence starts a message with a capital letter and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return formatTime(*t)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// deviceName makes a short "Browser on System" out of a User-Agent for the sessions list.
func deviceName(ua string) string {
	if ua == "" {
		return "Unknown device"
	}
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chromium/", "Chromium"},
		{"HeadlessChrome/", "Chrome (headless)"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
		{"curl/", "curl"}, {"Go-http-client", "Go program"}, {"python", "Python program"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return system
	}
	if len(ua) > 40 {
		return ua[:40] + "…"
	}
	return ua
}
