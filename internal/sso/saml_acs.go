package sso

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/license"
)

// The assertion consumer service. Besides everything crewjam/saml checks, it carries the
// mitigations of advisory GO-2026-6909 (open in every crewjam/saml version): an assertion
// without an Issuer is refused before the library reads it (the library could panic on one),
// the subject is taken only from a NameID in the SAML assertion namespace (a NameID of another
// namespace could be read as the subject), and a panic anywhere in the consumer is recovered,
// audited and answered as a refused sign-in.

const (
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
)

// maxSAMLResponse bounds the decoded response: a signed response with a few attributes is a few
// kilobytes; encrypted ones are somewhat larger.
const maxSAMLResponse = 256 << 10

// samlFailure is a refused response: what the browser sees and what the audit trail records.
type samlFailure struct {
	code   gatehouse.Code
	msg    string
	detail string
}

func (f *samlFailure) Error() string { return f.detail }

func refusedResponse(detail string) *samlFailure {
	return &samlFailure{code: gatehouse.EUnauthenticated, msg: "The identity provider's answer was not accepted. Please start again.", detail: detail}
}

func (h *handlers) samlACS(w http.ResponseWriter, r *http.Request) (err error) {
	if err := h.gate(r, license.FeatureSSOSAML, h.s.saml != nil); err != nil {
		return h.page(w, r, err)
	}
	c := h.s.client(r)
	defer func() {
		if p := recover(); p != nil {
			h.s.log.Error("SAML assertion consumer panicked; the sign-in is refused", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			h.s.accounts.AuditSSOFailure(r.Context(), "saml", "the response could not be processed (panic recovered)", c)
			f := refusedResponse("panic")
			err = h.page(w, r, gatehouse.Errorf(f.code, "%s", f.msg).WithReason("sso_failed"))
		}
	}()
	if err := r.ParseForm(); err != nil {
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			// 413 naming the field, as the API answers a body over its limit.
			problem := fmt.Sprintf("the sign-in form exceeds %d bytes", mbe.Limit)
			return h.page(w, r, &gatehouse.Error{Code: gatehouse.ETooLarge, Message: "SAMLResponse: " + problem,
				Fields: map[string]string{"SAMLResponse": problem}, Err: err})
		}
		return h.page(w, r, gatehouse.Wrap(gatehouse.EInvalid, err, "the sign-in form could not be read"))
	}
	encoded := r.PostForm.Get("SAMLResponse")
	if encoded == "" {
		return h.page(w, r, gatehouse.FieldError("SAMLResponse", "is required"))
	}

	var f samlFlow
	if cerr := h.s.takeFlowCookie(w, r, samlCookie, &f); cerr != nil {
		if _, missing := r.Cookie(samlCookie); missing != nil && r.PostForm.Get("gh_bounce") == "" {
			// The IdP's cross-site POST does not carry the SameSite=Lax cookie: post the same
			// form once more from this site, which does.
			h.bounce(w, r)
			return nil
		}
		h.s.accounts.AuditSSOFailure(r.Context(), "saml", "no valid sign-in cookie", c)
		return h.page(w, r, gatehouse.Errorf(gatehouse.EInvalid, "This sign-in has expired or was started in another browser. Please start again.").WithReason("sso_failed"))
	}
	if rs := r.PostForm.Get("RelayState"); subtle.ConstantTimeCompare([]byte(rs), []byte(f.RelayState)) != 1 {
		h.s.accounts.AuditSSOFailure(r.Context(), "saml", "RelayState does not match the sign-in", c)
		return h.page(w, r, gatehouse.Errorf(gatehouse.EInvalid, "This sign-in could not be verified. Please start again.").WithReason("sso_failed"))
	}

	in, ferr := h.s.consume(r, encoded, f.RequestID)
	if ferr != nil {
		var sf *samlFailure
		if !errors.As(ferr, &sf) {
			return h.page(w, r, ferr) // the IdP metadata cannot be had: unavailable
		}
		h.s.accounts.AuditSSOFailure(r.Context(), "saml", sf.detail, c)
		return h.page(w, r, gatehouse.Errorf(sf.code, "%s", sf.msg).WithReason("sso_failed"))
	}
	in.Provider, in.Remember, in.Client = "saml", f.Remember, c
	if err := h.finish(w, r, in, safeNext(f.Next)); err != nil {
		return h.page(w, r, err)
	}
	return nil
}

// consume checks a response and reads the person from it. A *samlFailure says why it was
// refused; any other error is the IdP metadata's.
func (s *Service) consume(r *http.Request, encoded, requestID string) (auth.ExternalLogin, error) {
	var in auth.ExternalLogin
	if s.acsHook != nil {
		s.acsHook()
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(encoded), ""))
	if err != nil || len(raw) > maxSAMLResponse {
		return in, refusedResponse("SAMLResponse is not base64 or is too large")
	}
	sp, err := s.serviceProvider(r.Context())
	if err != nil {
		return in, err
	}
	if err := precheck(raw, sp.IDPMetadata.EntityID); err != nil {
		return in, refusedResponse(err.Error())
	}
	assertion, err := sp.ParseXMLResponse(raw, []string{requestID}, sp.AcsURL)
	if err != nil {
		detail := "response refused: " + describeSAMLError(err)
		if errors.Is(err, errReplayed) {
			detail = "response refused: the assertion was used before (replay)"
		}
		return in, refusedResponse(detail)
	}
	subject, err := subjectOf(assertion, sp.IDPMetadata.EntityID)
	if err != nil {
		return in, refusedResponse(err.Error())
	}
	in.Subject = subject
	in.Email = s.samlEmail(assertion)
	// SAML has no per-assertion verification flag: SAML_EMAIL_VERIFIED is the operator's word for
	// every address of the IdP, both to create an account and to link to an existing one.
	in.EmailVerified = s.cfg.SAML.EmailVerified && in.Email != ""
	in.LinkByEmail = in.EmailVerified
	in.Groups = attributeValues(assertion, s.groupAttributes())
	return in, nil
}

// describeSAMLError keeps the library's reason for the audit trail, without the XML.
func describeSAMLError(err error) string {
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		err = ire.PrivateErr
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

// precheck reads the response as received, namespace-aware, before the library does: it must
// be a samlp:Response with at least one assertion, every plaintext assertion must name its
// Issuer (saml:Issuer, not empty), and a Subject may hold a NameID only in the SAML assertion
// namespace. Encrypted assertions are checked after decryption (subjectOf).
func precheck(raw []byte, idpEntityID string) error {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return errors.New("the response is not well-formed XML")
	}
	root := doc.Root()
	if root == nil || root.Tag != "Response" || root.NamespaceURI() != nsProtocol {
		return errors.New("the document is not a SAML protocol Response")
	}
	assertions := 0
	for _, el := range root.ChildElements() {
		switch {
		case el.Tag == "Issuer" && el.NamespaceURI() == nsAssertion:
			if v := strings.TrimSpace(el.Text()); v != idpEntityID {
				return fmt.Errorf("the response Issuer is not the IdP %q", idpEntityID)
			}
		case el.Tag == "EncryptedAssertion" && el.NamespaceURI() == nsAssertion:
			assertions++
		case el.Tag == "Assertion" && el.NamespaceURI() == nsAssertion:
			assertions++
			if err := checkAssertionElement(el); err != nil {
				return err
			}
		}
	}
	if assertions == 0 {
		return errors.New("the response has no assertion")
	}
	return nil
}

func checkAssertionElement(a *etree.Element) error {
	hasIssuer := false
	for _, el := range a.ChildElements() {
		if el.Tag == "Issuer" && el.NamespaceURI() == nsAssertion && strings.TrimSpace(el.Text()) != "" {
			hasIssuer = true
		}
		if el.Tag == "Subject" {
			for _, id := range el.ChildElements() {
				if id.Tag == "NameID" && id.NamespaceURI() != nsAssertion {
					return fmt.Errorf("the assertion Subject has a NameID outside the SAML namespace (%q)", id.NamespaceURI())
				}
			}
		}
	}
	if !hasIssuer {
		return errors.New("the assertion has no Issuer")
	}
	return nil
}

// subjectOf checks the validated assertion again (decrypted ones were not visible to precheck)
// and returns its subject: the value of a saml:NameID, never anything else (not an attribute,
// not a BaseID). A transient NameID is refused: it changes at every sign-in, so it cannot
// identify an account.
func subjectOf(a *saml.Assertion, idpEntityID string) (string, error) {
	if a.Issuer.XMLName.Space != nsAssertion || strings.TrimSpace(a.Issuer.Value) == "" {
		return "", errors.New("the assertion has no Issuer")
	}
	if strings.TrimSpace(a.Issuer.Value) != idpEntityID {
		return "", fmt.Errorf("the assertion Issuer is not the IdP %q", idpEntityID)
	}
	if a.Subject == nil || a.Subject.NameID == nil || a.Subject.XMLName.Space != nsAssertion {
		return "", errors.New("the assertion has no NameID in the SAML namespace")
	}
	v := strings.TrimSpace(a.Subject.NameID.Value)
	switch {
	case v == "":
		return "", errors.New("the assertion's NameID is empty")
	case len(v) > 255:
		return "", errors.New("the assertion's NameID is longer than 255 bytes")
	case a.Subject.NameID.Format == string(saml.TransientNameIDFormat):
		return "", errors.New("the assertion's NameID is transient; configure the IdP to send a persistent or email NameID")
	}
	return v, nil
}

// Default attribute names, tried in order when SAML_EMAIL_ATTRIBUTE / SAML_GROUPS_ATTRIBUTE
// are not set.
var (
	emailAttributes = []string{"email", "mail", "urn:oid:0.9.2342.19200300.100.1.3",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"}
	groupAttributes = []string{"groups", "memberOf", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"}
)

func (s *Service) groupAttributes() []string {
	if s.cfg.SAML.GroupsAttribute != "" {
		return []string{s.cfg.SAML.GroupsAttribute}
	}
	return groupAttributes
}

// samlEmail reads the email address from the attributes, or from an emailAddress NameID.
func (s *Service) samlEmail(a *saml.Assertion) string {
	names := emailAttributes
	if s.cfg.SAML.EmailAttribute != "" {
		names = []string{s.cfg.SAML.EmailAttribute}
	}
	if vs := attributeValues(a, names); len(vs) > 0 {
		return vs[0]
	}
	if s.cfg.SAML.EmailAttribute == "" && a.Subject.NameID.Format == string(saml.EmailAddressNameIDFormat) {
		return strings.TrimSpace(a.Subject.NameID.Value)
	}
	return ""
}

// attributeValues returns the non-empty values of the first attribute (by Name, then
// FriendlyName) found among names.
func attributeValues(a *saml.Assertion, names []string) []string {
	for _, name := range names {
		for _, st := range a.AttributeStatements {
			for _, at := range st.Attributes {
				if at.Name != name && at.FriendlyName != name {
					continue
				}
				var out []string
				for _, v := range at.Values {
					if t := strings.TrimSpace(v.Value); t != "" {
						out = append(out, t)
					}
				}
				if len(out) > 0 {
					return out
				}
			}
		}
	}
	return nil
}

var bouncePage = template.Must(template.New("bounce").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signing in – {{.Brand}}</title></head>
<body><form method="post" action="{{.Action}}">{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<noscript><p>Continue to finish signing in.</p></noscript><button type="submit">Continue</button></form>
<script nonce="{{.Nonce}}">document.forms[0].submit()</script></body></html>
`))

// bounce posts the IdP's form again from this site, so that the browser sends the sign-in
// cookie (SameSite=Lax keeps it off cross-site POSTs). Nothing is checked or consumed before:
// the second post is checked like any other.
func (h *handlers) bounce(w http.ResponseWriter, r *http.Request) {
	h.html(w, http.StatusOK, bouncePage, pageData{
		Brand: h.s.brand, Action: "/sso/saml/acs", Nonce: randomString(16),
		Fields: map[string]string{"SAMLResponse": r.PostForm.Get("SAMLResponse"), "RelayState": r.PostForm.Get("RelayState"), "gh_bounce": "1"},
	})
}
