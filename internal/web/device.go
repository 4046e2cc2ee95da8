package web

import (
	"net/http"
	"time"
)

// The sign-in device cookie holds the device token of the last successful sign-in (OWASP
// device cookies, see internal/auth/device.go): presented with the login form, it keeps the
// owner's browser signing in while failures from elsewhere slow the account down. It is a
// cookie of its own, apart from the session and the remember-this-device (second factor)
// cookie, and outlives sign-outs on purpose: the token is signed, names one account and is
// worth nothing without that account's password. Its name follows the session cookie's: the
// __Host- prefix when the request is secure (COOKIE_SECURE).
const (
	signinDeviceCookie       = "gatehouse_signin_device"
	secureSigninDeviceCookie = "__Host-gatehouse_signin_device"
)

func (w *Web) signinDeviceCookieName(r *http.Request) string {
	if w.secureRequest(r) {
		return secureSigninDeviceCookie
	}
	return signinDeviceCookie
}

// signinDeviceToken is the device token the browser holds, if any.
func (w *Web) signinDeviceToken(r *http.Request) string {
	if c, err := r.Cookie(w.signinDeviceCookieName(r)); err == nil {
		return c.Value
	}
	return ""
}

// setSigninDeviceToken stores the device token of a successful sign-in for its whole life
// (SECURITY_DEVICE_TOKEN_MAX_AGE).
func (w *Web) setSigninDeviceToken(rw http.ResponseWriter, r *http.Request, tok string) {
	life := w.auth.Options().DeviceMaxAge
	if tok == "" || life <= 0 {
		return
	}
	secure := w.secureRequest(r)
	// Secure follows COOKIE_SECURE, as for the session cookie (plain HTTP in development).
	http.SetCookie(rw, &http.Cookie{ // #nosec G124 -- HttpOnly, SameSite=Lax, Secure per COOKIE_SECURE
		Name: w.signinDeviceCookieName(r), Value: tok, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(life / time.Second), Expires: time.Now().Add(life),
	})
}
