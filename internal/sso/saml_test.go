package sso_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/sso"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// samlSignIn runs an SP-initiated sign-in through crewjam's samlidp in-process: the person signs
// in at the IdP (samlidp's login form cannot carry the signature of a redirect-bound request, so
// the IdP session comes first), then Gatehouse's login endpoint sends the browser to the IdP's
// SSO endpoint, whose auto-posting form goes to the ACS. It returns the IdP's form.
func samlIdPForm(t *testing.T, e *env, i *idp, b *browser, start, user, password string) (string, url.Values) {
	t.Helper()
	if p := e.postForm(b.Client, i.srv.URL+"/login", url.Values{"user": {user}, "password": {password}}); p.status != http.StatusOK {
		t.Fatalf("IdP login: %d\n%s", p.status, p.body)
	}
	posted := e.get(b.Client, e.srv.URL+start)
	if posted.status != http.StatusOK {
		t.Fatalf("IdP SSO: %d\n%s", posted.status, posted.body)
	}
	acs, resp := form(t, posted.body)
	if acs != e.srv.URL+"/sso/saml/acs" || resp.Get("SAMLResponse") == "" {
		t.Fatalf("IdP answer posts to %q: %v", acs, resp)
	}
	return acs, resp
}

func samlSignIn(t *testing.T, e *env, i *idp, b *browser, start, user, password string) page {
	t.Helper()
	acs, resp := samlIdPForm(t, e, i, b, start, user, password)
	return e.postForm(b.Client, acs, resp)
}

func TestSAMLSignIn(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		i := startIdP(t)
		e := newEnv(t, db, envOptions{license: enterprise(), saml: samlConfig(i), rules: "[saml]staff=team:Support:member;admins=admin"})
		i.registerSP(t, e)
		i.addUser(t, "alice", "alice@example.com", "alice-password", "staff", "admins")
		owner := &gatehouse.User{Email: "owner@example.com", Active: true}
		if err := e.st.CreateUser(context.Background(), owner); err != nil {
			t.Fatal(err)
		}
		support := &gatehouse.Team{Name: "Support"}
		if err := e.st.CreateTeam(context.Background(), support, owner.ID); err != nil {
			t.Fatal(err)
		}

		b := e.browser()
		done := samlSignIn(t, e, i, b, "/sso/saml/login?next=/teams", "alice", "alice-password")
		if done.status != http.StatusSeeOther || done.header.Get("Location") != "/teams" {
			t.Fatalf("ACS: %d %q\n%s", done.status, done.header.Get("Location"), done.body)
		}
		u := e.signedInAs("alice@example.com")
		e.profile(b, "alice@example.com")
		if !u.SSOOnly || !slices.Equal(u.Roles, []gatehouse.Role{gatehouse.RoleAdmin}) {
			t.Fatalf("user = %+v", u)
		}
		if r, _ := e.st.TeamRole(context.Background(), support.ID, u.ID); r != gatehouse.TeamMember {
			t.Fatalf("support role = %q", r)
		}
		ids, _ := e.st.Identities(context.Background(), u.ID)
		if len(ids) != 1 || ids[0].Provider != "saml" || ids[0].Subject != "alice@example.com" {
			t.Fatalf("identities = %+v", ids)
		}

		// A real browser does not send the SameSite=Lax cookie with the IdP's cross-site POST:
		// the ACS then posts the form once more from this site, and that post completes.
		b = e.browser()
		acs, resp := samlIdPForm(t, e, i, b, "/sso/saml/login", "alice", "alice-password")
		bounced := e.postForm(http.DefaultClient, acs, resp) // no cookie
		if bounced.status != http.StatusOK || !strings.Contains(bounced.body, `name="gh_bounce"`) || !strings.Contains(bounced.header.Get("Content-Security-Policy"), "form-action 'self'") {
			t.Fatalf("bounce: %d\n%s", bounced.status, bounced.body)
		}
		again, vals := form(t, bounced.body)
		if again != "/sso/saml/acs" || vals.Get("SAMLResponse") != resp.Get("SAMLResponse") {
			t.Fatalf("bounce form: %s %v", again, vals)
		}
		// Still without the cookie, the bounced post is refused (no loop).
		if p := e.postForm(http.DefaultClient, e.srv.URL+again, vals); p.status != http.StatusBadRequest {
			t.Fatalf("bounced post without the cookie: %d", p.status)
		}
		if p := e.postForm(b.Client, e.srv.URL+again, vals); p.status != http.StatusSeeOther {
			t.Fatalf("bounced post with the cookie: %d\n%s", p.status, p.body)
		}
		if n, _ := e.st.CountUsers(context.Background()); n != 2 {
			t.Fatalf("%d users", n)
		}
	})
}

// craft is how a test builds the IdP's answer to one sign-in itself, to make it wrong in one way.
type craft struct {
	nameID, nameIDFormat string
	mutate               func(a *saml.Assertion) // before signing
	mutateEl             func(el *etree.Element) // the assertion element, before signing
	unsigned             bool
	tamper               func(xml string) string // after signing
}

// startSAML starts a sign-in in b and returns the IdP SSO URL it is sent to (with the signed
// AuthnRequest and the RelayState).
func startSAML(t *testing.T, e *env, b *browser) *url.URL {
	t.Helper()
	p := e.get(b.noFollow(), e.srv.URL+"/sso/saml/login")
	if p.status != http.StatusFound {
		t.Fatalf("SAML login: %d %s", p.status, p.body)
	}
	u, err := url.Parse(p.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// answer builds the IdP's response to the request in ssoURL as c says, using the IdP's own
// request handling, assertion maker and key, and returns the form the IdP would post.
func (i *idp) answer(t *testing.T, ssoURL *url.URL, c craft) url.Values {
	t.Helper()
	req, err := saml.NewIdpAuthnRequest(&i.s.IDP, httptest.NewRequest(http.MethodGet, ssoURL.String(), nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	// Plaintext assertions, so that the tests can change them: hide the SP's encryption key.
	spd := *req.SPSSODescriptor
	spd.KeyDescriptors = nil
	req.SPSSODescriptor = &spd
	if c.nameID == "" {
		c.nameID = "mallory@example.com"
	}
	if c.nameIDFormat == "" {
		c.nameIDFormat = string(saml.EmailAddressNameIDFormat)
	}
	now := time.Now()
	session := &saml.Session{ID: "s-1", NameID: c.nameID, NameIDFormat: c.nameIDFormat, UserEmail: "mallory@example.com",
		CreateTime: now, ExpireTime: now.Add(time.Hour), Index: "1"}
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
		t.Fatal(err)
	}
	if c.mutate != nil {
		c.mutate(req.Assertion)
	}
	var respEl *etree.Element
	switch {
	case c.unsigned:
		resp := &saml.Response{Destination: req.ACSEndpoint.Location, ID: "id-unsigned", InResponseTo: req.Request.ID, IssueInstant: req.Now,
			Version: "2.0", Issuer: &saml.Issuer{Value: i.entityID()}, Status: saml.Status{StatusCode: saml.StatusCode{Value: saml.StatusSuccess}}}
		respEl = resp.Element()
		respEl.AddChild(req.Assertion.Element())
	default:
		if c.mutateEl != nil {
			el := req.Assertion.Element()
			c.mutateEl(el)
			req.AssertionEl = i.sign(t, el)
		}
		if err := req.MakeResponse(); err != nil {
			t.Fatal(err)
		}
		respEl = req.ResponseEl
	}
	doc := etree.NewDocument()
	doc.SetRoot(respEl)
	xml, err := doc.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	if c.tamper != nil {
		xml = c.tamper(xml)
	}
	return url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString([]byte(xml))}, "RelayState": {ssoURL.Query().Get("RelayState")}}
}

// sign signs el (enveloped) with the IdP's key, as the IdP signs assertions, and puts the
// signature after the Issuer, where the schema wants it.
func (i *idp) sign(t *testing.T, el *etree.Element) *etree.Element {
	t.Helper()
	ks := dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{i.cert.Raw}, PrivateKey: i.key, Leaf: i.cert})
	sc := dsig.NewDefaultSigningContext(ks)
	sc.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := sc.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		t.Fatal(err)
	}
	signed, err := sc.SignEnveloped(el)
	if err != nil {
		t.Fatal(err)
	}
	sig := signed.ChildElements()[len(signed.ChildElements())-1]
	signed.RemoveChild(sig)
	at := 0
	for idx, ch := range signed.ChildElements() {
		if ch.Tag == "Issuer" {
			at = idx + 1
		}
	}
	signed.InsertChildAt(at, sig)
	return signed
}

// TestSAMLRefusals posts responses that are wrong in one way each, all made with the IdP's real
// key, and checks that each is refused with its reason audited and that nobody is signed in.
func TestSAMLRefusals(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		i := startIdP(t)
		e := newEnv(t, db, envOptions{license: enterprise(), saml: samlConfig(i)})
		i.registerSP(t, e)
		past := func(a *saml.Assertion) {
			old := time.Now().Add(-2 * time.Hour)
			a.IssueInstant = old
			a.Conditions.NotBefore, a.Conditions.NotOnOrAfter = old, old.Add(5*time.Minute)
			a.Subject.SubjectConfirmations[0].SubjectConfirmationData.NotOnOrAfter = old.Add(5 * time.Minute)
		}
		for _, tc := range []struct {
			name   string
			craft  craft
			detail string // in the audited reason
		}{
			{name: "tampered", craft: craft{tamper: func(x string) string {
				return strings.Replace(x, ">mallory@example.com</saml:NameID>", ">admin@example.com</saml:NameID>", 1)
			}}, detail: "Signature could not be verified"},
			{name: "unsigned", craft: craft{unsigned: true}, detail: "signature element not present"},
			{name: "expired", craft: craft{mutate: past}, detail: "expired"},
			{name: "wrong audience", craft: craft{mutate: func(a *saml.Assertion) {
				a.Conditions.AudienceRestrictions[0].Audience.Value = "https://other-sp.example/metadata"
			}}, detail: "Audience"},
			{name: "wrong recipient", craft: craft{mutate: func(a *saml.Assertion) {
				a.Subject.SubjectConfirmations[0].SubjectConfirmationData.Recipient = "https://other-sp.example/acs"
			}}, detail: "Recipient"},
			{name: "missing Issuer", craft: craft{mutateEl: func(el *etree.Element) {
				el.RemoveChild(el.SelectElement("Issuer"))
			}}, detail: "the assertion has no Issuer"},
			{name: "NameID in another namespace", craft: craft{mutateEl: func(el *etree.Element) {
				subject := el.SelectElement("Subject")
				subject.RemoveChild(subject.SelectElement("NameID"))
				spoof := etree.NewElement("evil:NameID")
				spoof.CreateAttr("xmlns:evil", "urn:example:evil")
				spoof.SetText("admin@example.com")
				subject.InsertChildAt(0, spoof)
			}}, detail: "outside the SAML namespace"},
			{name: "transient NameID", craft: craft{nameID: "_a1b2c3", nameIDFormat: string(saml.TransientNameIDFormat)}, detail: "transient"},
		} {
			b := e.browser()
			resp := i.answer(t, startSAML(t, e, b), tc.craft)
			p := e.postForm(b.Client, e.srv.URL+"/sso/saml/acs", resp)
			if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "was not accepted") {
				t.Errorf("%s: %d\n%s", tc.name, p.status, p.body)
			}
			if !e.auditHas(gatehouse.AuditLoginFailure, tc.detail) {
				t.Errorf("%s: no login_failure audit event with %q", tc.name, tc.detail)
			}
		}
		if e.sessions.count() != 0 {
			t.Fatalf("%d sessions established by refused responses", e.sessions.count())
		}
		if n, _ := e.st.CountUsers(context.Background()); n != 0 {
			t.Fatalf("%d users created by refused responses", n)
		}

		// The harness makes acceptable answers: the same, untouched, signs in.
		b := e.browser()
		start := startSAML(t, e, b)
		resp := i.answer(t, start, craft{})
		var flow *http.Cookie
		for _, c := range b.jar.Cookies(&url.URL{Scheme: "http", Host: strings.TrimPrefix(e.srv.URL, "http://"), Path: "/sso/saml/acs"}) {
			if c.Name == "gh_sso_saml" {
				flow = c
			}
		}
		if flow == nil {
			t.Fatal("no SAML flow cookie")
		}
		if p := e.postForm(b.Client, e.srv.URL+"/sso/saml/acs", resp); p.status != http.StatusSeeOther {
			t.Fatalf("control: %d\n%s", p.status, p.body)
		}
		e.signedInAs("mallory@example.com")

		// Replayed: the same response again, even with the sign-in cookie captured with it, is
		// refused, here and on another instance sharing the database.
		replay := func(target string) page {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, target+"/sso/saml/acs", strings.NewReader(resp.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: flow.Name, Value: flow.Value})
			return e.send(http.DefaultClient, req)
		}
		if p := replay(e.srv.URL); p.status != http.StatusUnauthorized {
			t.Fatalf("replay: %d\n%s", p.status, p.body)
		}
		if p := replay(e.secondInstance()); p.status != http.StatusUnauthorized {
			t.Fatalf("replay on another instance: %d\n%s", p.status, p.body)
		}
		if !e.auditHas(gatehouse.AuditLoginFailure, "used before (replay)") {
			t.Fatal("the replay is not audited as such")
		}
		if e.sessions.count() != 1 {
			t.Fatalf("%d sessions", e.sessions.count())
		}

		// A response for another browser's sign-in is refused (InResponseTo), even with this
		// sign-in's RelayState.
		mine, theirs := e.browser(), e.browser()
		mineStart := startSAML(t, e, mine)
		their := i.answer(t, startSAML(t, e, theirs), craft{})
		their.Set("RelayState", mineStart.Query().Get("RelayState"))
		if p := e.postForm(mine.Client, e.srv.URL+"/sso/saml/acs", their); p.status != http.StatusUnauthorized {
			t.Fatalf("another sign-in's response: %d\n%s", p.status, p.body)
		}
		if !e.auditHas(gatehouse.AuditLoginFailure, "InResponseTo") {
			t.Fatal("the InResponseTo mismatch is not audited")
		}
	})
}

// TestSAMLPanicRecovered makes the assertion consumer panic, as crewjam/saml can on a hostile
// response: the sign-in is refused and audited, and the server goes on serving.
func TestSAMLPanicRecovered(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		i := startIdP(t)
		e := newEnv(t, db, envOptions{license: enterprise(), saml: samlConfig(i)})
		i.registerSP(t, e)
		sso.SetACSHook(e.sso, func() { panic("nil pointer dereference in the SAML library") })
		b := e.browser()
		resp := i.answer(t, startSAML(t, e, b), craft{})
		p := e.postForm(b.Client, e.srv.URL+"/sso/saml/acs", resp)
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "was not accepted") {
			t.Fatalf("panicking ACS: %d\n%s", p.status, p.body)
		}
		if !e.auditHas(gatehouse.AuditLoginFailure, "panic recovered") {
			t.Fatal("the recovered panic is not audited")
		}
		sso.SetACSHook(e.sso, nil)
		b = e.browser()
		resp = i.answer(t, startSAML(t, e, b), craft{})
		if p := e.postForm(b.Client, e.srv.URL+"/sso/saml/acs", resp); p.status != http.StatusSeeOther {
			t.Fatalf("after the panic: %d\n%s", p.status, p.body)
		}
	})
}

// TestSAMLACSBadInput posts malformed, missing and oversized forms to the assertion consumer:
// each is answered with a 4xx naming SAMLResponse (or refused as a sign-in), and nothing changes.
func TestSAMLACSBadInput(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		i := startIdP(t)
		e := newEnv(t, db, envOptions{license: enterprise(), saml: samlConfig(i)})
		i.registerSP(t, e)
		post := func(b *browser, form url.Values) page {
			t.Helper()
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.srv.URL+"/sso/saml/acs", strings.NewReader(form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept", "application/json")
			return e.send(b.Client, req)
		}
		for _, tc := range []struct {
			name   string
			form   url.Values
			status int
		}{
			{name: "missing", form: url.Values{"RelayState": {"x"}}, status: http.StatusBadRequest},
			{name: "oversized", form: url.Values{"SAMLResponse": {strings.Repeat("A", 600<<10)}}, status: http.StatusRequestEntityTooLarge},
		} {
			b := e.browser()
			startSAML(t, e, b)
			p := post(b, tc.form)
			env := p.envelope(t)
			if p.status != tc.status || env.Error == nil || env.Error.Fields["SAMLResponse"] == "" {
				t.Errorf("%s: %d, want %d naming SAMLResponse\n%s", tc.name, p.status, tc.status, p.body)
			}
		}
		for name, value := range map[string]string{
			"not base64":   "!!! ☃ not base64 \u202e",
			"not XML":      base64.StdEncoding.EncodeToString([]byte("\x00\xff not xml")),
			"not Response": base64.StdEncoding.EncodeToString([]byte(`<x xmlns="urn:example">` + strings.Repeat("ü", 1000) + `</x>`)),
		} {
			b := e.browser()
			start := startSAML(t, e, b)
			p := post(b, url.Values{"SAMLResponse": {value}, "RelayState": {start.Query().Get("RelayState")}})
			if env := p.envelope(t); p.status != http.StatusUnauthorized || env.Error == nil || env.Error.Code != "sso_failed" {
				t.Errorf("%s: %d\n%s", name, p.status, p.body)
			}
		}
		if e.sessions.count() != 0 {
			t.Fatalf("%d sessions established by bad input", e.sessions.count())
		}
		if n, _ := e.st.CountUsers(context.Background()); n != 0 {
			t.Fatalf("%d users created by bad input", n)
		}
	})
}
