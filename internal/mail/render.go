package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/gatehousehq/gatehouse"
)

// Brand is what the messages are branded with.
type Brand struct {
	// Name is the product name shown in subjects, greetings and signatures; "Gatehouse" when
	// empty. It is data like any other: markup in it is escaped.
	Name string
}

func (b Brand) name() string {
	if n := cleanLine(b.Name); n != "" {
		return n
	}
	return "Gatehouse"
}

// The message kinds, one per message the account flows send. Each is also the name of its
// templates: templates/KIND.txt (subject and text body) and templates/KIND.html.
const (
	KindConfirm           = "confirm"
	KindReset             = "reset"
	KindResetNotice       = "reset_notice"
	KindChangeNotice      = "change_notice"
	KindAlreadyRegistered = "already_registered"
	KindEmailCode         = "email_code"
	KindInvitation        = "invitation"
	KindTwoFactorNotice   = "two_factor_notice"
	KindEmailChange       = "email_change"
	KindEmailChangeNotice = "email_change_notice"
)

// Kinds lists every message kind.
var Kinds = []string{KindConfirm, KindReset, KindResetNotice, KindChangeNotice, KindAlreadyRegistered, KindEmailCode, KindInvitation, KindTwoFactorNotice,
	KindEmailChange, KindEmailChangeNotice, KindEmailSignIn, KindUsernameTaken, KindUsernameRecovery, KindAccountInvite}

// Content is the data of one message kind: Confirm, Reset, ResetNotice, ChangeNotice,
// AlreadyRegistered, EmailCode, Invitation, TwoFactorNotice, EmailChange or EmailChangeNotice. Render turns it into a Message.
type Content interface {
	// Kind names the message kind and its templates.
	Kind() string
	validate() error
}

// Confirm asks a new user to confirm their address, with a link and a short code to type in
// instead.
type Confirm struct {
	Link     string        // absolute URL built from PUBLIC_URL
	Code     string        // the short code; optional
	ValidFor time.Duration // how long link and code work; not shown when zero
}

// Reset carries a password-reset link and code.
type Reset struct {
	Link     string        // absolute URL built from PUBLIC_URL
	Code     string        // the short code; optional
	ValidFor time.Duration // how long link and code work; not shown when zero
}

// ResetNotice tells a user their password was reset.
type ResetNotice struct {
	At   time.Time // when; not shown when zero
	Link string    // where to reset it again if it was not them (absolute); optional
}

// ChangeNotice tells a user their password was changed.
type ChangeNotice struct {
	At   time.Time // when; not shown when zero
	Link string    // where to reset it if it was not them (absolute); optional
}

// AlreadyRegistered is sent instead of a confirmation when someone registers with an address
// that already has an account, so that registering cannot tell who has an account.
type AlreadyRegistered struct {
	LoginLink string // the sign-in page (absolute)
	ResetLink string // the forgotten-password page (absolute); optional
}

// EmailCode carries a one-time sign-in code.
type EmailCode struct {
	Code     string        // the 6-digit code
	ValidFor time.Duration // 5 minutes when zero
}

// Invitation invites someone to join a team, with a link and a short code to type in instead.
// Team and InvitedBy are data that team members chose: they are shown as text, on one line.
type Invitation struct {
	Team      string        // the team's name
	Role      string        // the team role offered, such as "member"
	InvitedBy string        // the inviter's address; optional
	Link      string        // absolute URL built from PUBLIC_URL
	Code      string        // the short code; optional
	ValidFor  time.Duration // how long link and code work; not shown when zero
}

// Kind implements Content.
func (Confirm) Kind() string { return KindConfirm }

// Kind implements Content.
func (Reset) Kind() string { return KindReset }

// Kind implements Content.
func (ResetNotice) Kind() string { return KindResetNotice }

// Kind implements Content.
func (ChangeNotice) Kind() string { return KindChangeNotice }

// Kind implements Content.
func (AlreadyRegistered) Kind() string { return KindAlreadyRegistered }

// Kind implements Content.
func (EmailCode) Kind() string { return KindEmailCode }

// Kind implements Content.
func (Invitation) Kind() string { return KindInvitation }

// TwoFactorNotice tells a user that a second factor was added to or removed from their account
// (or all of them reset by an administrator), so that a change they did not make is noticed.
type TwoFactorNotice struct {
	Method  string    // what changed, in words: "an authenticator app", "sign-in codes by email", "all second factors"
	Added   bool      // added (true) or removed (false)
	ByAdmin bool      // an administrator reset the account's second factors
	At      time.Time // when; not shown when zero
	Link    string    // where to review the account (absolute); optional
}

// Kind implements Content.
func (TwoFactorNotice) Kind() string { return KindTwoFactorNotice }

// EmailChange asks the owner of a new address to confirm that their account moves to it, with
// a link and a short code to type in instead.
type EmailChange struct {
	Link     string        // absolute URL built from PUBLIC_URL
	Code     string        // the short code; optional
	ValidFor time.Duration // how long link and code work; not shown when zero
}

// EmailChangeNotice tells the current address that a move of the account to NewEmail was
// asked for, so that a change the owner did not make is noticed before it is confirmed.
type EmailChangeNotice struct {
	NewEmail string    // the address asked for, shown as text on one line
	At       time.Time // when; not shown when zero
	Link     string    // where to review the account (absolute); optional
}

// Kind implements Content.
func (EmailChange) Kind() string { return KindEmailChange }

// Kind implements Content.
func (EmailChangeNotice) Kind() string { return KindEmailChangeNotice }

func (c EmailChange) validate() error {
	return firstErr(checkLink("link", c.Link, true), checkCode(c.Code, false))
}

func (c EmailChangeNotice) validate() error {
	if cleanLine(c.NewEmail) == "" {
		return gatehouse.FieldError("new_email", "is required")
	}
	return checkLink("link", c.Link, false)
}

func (c TwoFactorNotice) validate() error {
	if cleanLine(c.Method) == "" {
		return gatehouse.FieldError("method", "is required")
	}
	return checkLink("link", c.Link, false)
}

func (c Confirm) validate() error {
	return firstErr(checkLink("link", c.Link, true), checkCode(c.Code, false))
}

func (c Reset) validate() error {
	return firstErr(checkLink("link", c.Link, true), checkCode(c.Code, false))
}

func (c ResetNotice) validate() error  { return checkLink("link", c.Link, false) }
func (c ChangeNotice) validate() error { return checkLink("link", c.Link, false) }

func (c AlreadyRegistered) validate() error {
	return firstErr(checkLink("login_link", c.LoginLink, true), checkLink("reset_link", c.ResetLink, false))
}

func (c EmailCode) validate() error { return checkCode(c.Code, true) }

func (c Invitation) validate() error {
	var err error
	switch {
	case cleanLine(c.Team) == "":
		err = gatehouse.FieldError("team", "is required")
	case cleanLine(c.Role) == "":
		err = gatehouse.FieldError("role", "is required")
	}
	return firstErr(err, checkLink("link", c.Link, true), checkCode(c.Code, false))
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkLink requires an absolute http(s) URL: links are built from PUBLIC_URL by the caller,
// and a relative one would resolve against nothing in a mail client.
func checkLink(field, link string, required bool) error {
	if link == "" {
		if required {
			return gatehouse.FieldError(field, "is required")
		}
		return nil
	}
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(link, " \t\r\n") {
		return gatehouse.FieldError(field, "must be an absolute http or https URL")
	}
	return nil
}

func checkCode(code string, required bool) error {
	if code == "" {
		if required {
			return gatehouse.FieldError("code", "is required")
		}
		return nil
	}
	if len(code) > 64 || strings.IndexFunc(code, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) >= 0 {
		return gatehouse.FieldError("code", "must be at most 64 printable characters without spaces")
	}
	return nil
}

//go:embed templates/*.txt templates/*.html
var templateFiles embed.FS

type templateSet struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

// templates parses the embedded templates once, on first use.
var templates = sync.OnceValues(func() (*templateSet, error) {
	set := &templateSet{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, kind := range Kinds {
		t, err := texttemplate.New(kind).Funcs(texttemplate.FuncMap(funcs)).
			ParseFS(templateFiles, "templates/layout.txt", "templates/"+kind+".txt")
		if err != nil {
			return nil, fmt.Errorf("mail: parse text templates of %s: %w", kind, err)
		}
		h, err := htmltemplate.New(kind).Funcs(htmltemplate.FuncMap(funcs)).
			ParseFS(templateFiles, "templates/layout.html", "templates/"+kind+".html")
		if err != nil {
			return nil, fmt.Errorf("mail: parse HTML templates of %s: %w", kind, err)
		}
		set.text[kind], set.html[kind] = t, h
	}
	return set, nil
})

var funcs = map[string]any{
	"duration": humanDuration,
	"when":     func(t time.Time) string { return t.UTC().Format("2 January 2006 at 15:04 UTC") },
	"dict":     dict,
}

// dict builds a map from key, value pairs, to pass several values to a sub-template.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// view is what the templates see.
type view struct {
	Brand   string
	To      string
	Subject string // set after the subject is rendered, for the HTML title
	Data    Content
}

// Render makes the message of content's kind for one recipient, branded with brand. The HTML
// part is rendered with html/template, so a hostile product name, address or link cannot
// inject markup; the subject is one line.
func Render(brand Brand, to string, content Content) (Message, error) {
	if content == nil {
		return Message{}, gatehouse.Errorf(gatehouse.EInvalid, "mail: no content to render")
	}
	if err := content.validate(); err != nil {
		return Message{}, err
	}
	switch c := content.(type) {
	case EmailCode:
		if c.ValidFor == 0 {
			c.ValidFor = 5 * time.Minute
			content = c
		}
	case TwoFactorNotice:
		c.Method = cleanLine(c.Method)
		content = c
	case EmailChangeNotice:
		c.NewEmail = cleanLine(c.NewEmail)
		content = c
	case UsernameTaken:
		c.Username = cleanLine(c.Username)
		content = c
	case UsernameRecovery:
		c.Username = cleanLine(c.Username)
		content = c
	case Invitation:
		// A team name with line breaks must not shape the text body, nor the subject.
		c.Team, c.Role, c.InvitedBy = cleanLine(c.Team), cleanLine(c.Role), cleanLine(c.InvitedBy)
		content = c
	}
	set, err := templates()
	if err != nil {
		return Message{}, err
	}
	kind := content.Kind()
	tt, ht := set.text[kind], set.html[kind]
	if tt == nil || ht == nil {
		return Message{}, fmt.Errorf("mail: no templates for message kind %q", kind)
	}
	v := view{Brand: brand.name(), To: to, Data: content}
	var subj, text, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subj, "subject", v); err != nil {
		return Message{}, fmt.Errorf("mail: render subject of %s: %w", kind, err)
	}
	v.Subject = cleanLine(subj.String())
	if err := tt.ExecuteTemplate(&text, "layout", v); err != nil {
		return Message{}, fmt.Errorf("mail: render text of %s: %w", kind, err)
	}
	if err := ht.ExecuteTemplate(&html, "layout", v); err != nil {
		return Message{}, fmt.Errorf("mail: render HTML of %s: %w", kind, err)
	}
	m := Message{To: to, Subject: v.Subject, Text: tidyText(text.String()), HTML: html.String()}
	return m, m.Validate()
}

// cleanLine makes s one line: control characters (CR and LF among them) become spaces, runs of
// spaces one space, and the ends are trimmed.
func cleanLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// tidyText trims trailing spaces from each line, collapses runs of blank lines the templates'
// optional parts leave, and ends the text with one newline.
func tidyText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := make([]string, 0, len(lines))
	blank := true // drop leading blank lines
	for _, l := range lines {
		if l != "-- " { // the signature separator keeps its space
			l = strings.TrimRight(l, " \t")
		}
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n"
}

// humanDuration says how long something is valid in words: "5 minutes", "1 hour", "2 days".
// Zero or less is "" (the templates then leave the sentence out).
func humanDuration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	default:
		return unit(max(1, int64((d+30*time.Second)/time.Minute)), "minute")
	}
}
