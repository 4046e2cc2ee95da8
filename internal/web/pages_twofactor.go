package web

import (
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"regexp"
	"strings"

	"github.com/gatehousehq/gatehouse"
)

// twoFactorPath is the two-factor section of the profile.
const twoFactorPath = "/profile#two-factor"

// totpData is the authenticator-app setup page.
type totpData struct {
	Secret      string       // base32, shown in groups of four for typing
	SecretGroup string       // the same, grouped
	QR          template.URL // data:image/png;base64,…
	URI         string
}

var (
	base32Secret = regexp.MustCompile(`^[A-Z2-7]{16,128}$`)
	pngDataURI   = regexp.MustCompile(`^data:image/png;base64,[A-Za-z0-9+/]+={0,2}$`)
)

func groupSecret(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (w *Web) handleTOTPForm(rw http.ResponseWriter, r *http.Request) {
	if !w.requireFresh(rw, r, "/profile/2fa/totp") {
		return
	}
	enr, err := w.auth.BeginTOTP(r.Context(), principal(r), "", w.client(r))
	if err != nil {
		w.failProfile(rw, r, "totp", err)
		return
	}
	// The QR code is made by the service, never from input: safe to use as an image URL.
	w.render(rw, r, http.StatusOK, "totp_setup", &page{Title: "Set up an authenticator app",
		Data: totpData{Secret: enr.Secret, SecretGroup: groupSecret(enr.Secret), QR: template.URL(enr.QRPNG), URI: enr.OTPAuthURI}}) // #nosec G203 -- made by the service
}

func (w *Web) handleTOTPConfirm(rw http.ResponseWriter, r *http.Request) {
	if !w.requireFresh(rw, r, "/profile/2fa/totp") {
		return
	}
	codes, err := w.auth.ConfirmTOTP(r.Context(), principal(r), r.PostFormValue("code"), "", w.client(r))
	if err != nil {
		// Show the same secret again (the pending one stays until it is confirmed or replaced):
		// the user has scanned it already. The values only go back to the page that sent them,
		// and only in their exact shapes.
		secret, qr := r.PostFormValue("secret"), r.PostFormValue("qr")
		if !base32Secret.MatchString(secret) || !pngDataURI.MatchString(qr) || !validBase64(qr) {
			w.failProfile(rw, r, "totp", err)
			return
		}
		w.fail(rw, r, "totp_setup", &page{Title: "Set up an authenticator app",
			Data: totpData{Secret: secret, SecretGroup: groupSecret(secret), QR: template.URL(qr)}}, err) // #nosec G203 -- checked above
		return
	}
	w.factorChanged(rw, r, "Your authenticator app is set up.", codes)
}

func validBase64(dataURI string) bool {
	_, err := base64.StdEncoding.DecodeString(dataURI[strings.IndexByte(dataURI, ',')+1:])
	return err == nil
}

// factorChanged finishes adding a factor: the recovery codes, when the service made some, are
// shown this once; otherwise back to the profile.
func (w *Web) factorChanged(rw http.ResponseWriter, r *http.Request, msg string, codes []string) {
	if len(codes) > 0 {
		w.render(rw, r, http.StatusOK, "recovery_codes", &page{Title: "Save your recovery codes", Data: recoveryData{Message: msg, Codes: codes}})
		return
	}
	w.flash(r, flashSuccess, msg)
	http.Redirect(rw, r, twoFactorPath, http.StatusSeeOther)
}

type recoveryData struct {
	Message string
	Codes   []string
}

func (w *Web) handleTOTPDisable(rw http.ResponseWriter, r *http.Request) {
	if err := w.auth.DisableTOTP(r.Context(), principal(r), r.PostFormValue("password"), w.client(r)); err != nil {
		w.failProfile(rw, r, "totp", err)
		return
	}
	w.flash(r, flashSuccess, "The authenticator app has been removed.")
	http.Redirect(rw, r, twoFactorPath, http.StatusSeeOther)
}

func (w *Web) handleRecoveryCodes(rw http.ResponseWriter, r *http.Request) {
	if !w.requireFresh(rw, r, twoFactorPath) {
		return
	}
	codes, err := w.auth.RegenerateRecoveryCodes(r.Context(), principal(r), "", w.client(r))
	if err != nil {
		w.failProfile(rw, r, "recovery", err)
		return
	}
	w.render(rw, r, http.StatusOK, "recovery_codes", &page{Title: "Save your recovery codes",
		Data: recoveryData{Message: "New recovery codes have been made; the old ones no longer work.", Codes: codes}})
}

func (w *Web) handleEmailEnable(rw http.ResponseWriter, r *http.Request) {
	if !w.requireFresh(rw, r, twoFactorPath) {
		return
	}
	codes, err := w.auth.EnableEmailTwoFactor(r.Context(), principal(r), "", w.client(r))
	if err != nil {
		w.failProfile(rw, r, "email", err)
		return
	}
	w.factorChanged(rw, r, "Sign-in codes by email are on.", codes)
}

func (w *Web) handleEmailDisable(rw http.ResponseWriter, r *http.Request) {
	if err := w.auth.DisableEmailTwoFactor(r.Context(), principal(r), r.PostFormValue("password"), w.client(r)); err != nil {
		w.failProfile(rw, r, "email", err)
		return
	}
	w.flash(r, flashSuccess, "Sign-in codes by email are off.")
	http.Redirect(rw, r, twoFactorPath, http.StatusSeeOther)
}

// securityKeysPath is the security-key part of the profile.
const securityKeysPath = "/profile#security-keys"

// handleWebAuthnOptions answers the security-key script with the options for
// navigator.credentials.create. A stale sign-in gets the address of the password prompt.
func (w *Web) handleWebAuthnOptions(rw http.ResponseWriter, r *http.Request) {
	if !w.fresh(r) {
		writeJSON(rw, http.StatusForbidden, map[string]string{
			"error":  "Please confirm your password first.",
			"verify": "/verify?next=" + urlQueryEscape(securityKeysPath),
		})
		return
	}
	opts, err := w.auth.BeginWebAuthnRegistration(r.Context(), principal(r), "", w.client(r))
	if err != nil {
		w.jsonError(rw, r, err)
		return
	}
	writeJSON(rw, http.StatusOK, map[string]json.RawMessage{"publicKey": opts})
}

// handleWebAuthnAdd receives the new credential from the script (a form post, so that the
// answer is a page: the recovery codes, or the profile).
func (w *Web) handleWebAuthnAdd(rw http.ResponseWriter, r *http.Request) {
	if !w.requireFresh(rw, r, securityKeysPath) {
		return
	}
	_, codes, err := w.auth.FinishWebAuthnRegistration(r.Context(), principal(r), r.PostFormValue("name"),
		json.RawMessage(r.PostFormValue("credential")), "", w.client(r))
	if err != nil {
		w.failProfile(rw, r, "webauthn", err)
		return
	}
	w.factorChanged(rw, r, "Your security key has been added.", codes)
}

func (w *Web) handleWebAuthnRemove(rw http.ResponseWriter, r *http.Request) {
	err := w.auth.RemoveWebAuthnCredential(r.Context(), principal(r), r.PathValue("id"), r.PostFormValue("password"), w.client(r))
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
			err = gatehouse.Errorf(gatehouse.ENotFound, "no such security key")
		}
		w.failProfile(rw, r, "webauthn-"+r.PathValue("id"), err)
		return
	}
	w.flash(r, flashSuccess, "The security key has been removed.")
	http.Redirect(rw, r, securityKeysPath, http.StatusSeeOther)
}
