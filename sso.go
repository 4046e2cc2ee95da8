package gatehouse

// SSOButton is one "Sign in with …" choice of the login page: a single sign-on provider that is
// configured and licensed now. URL is a path of this server that starts the provider's flow with
// a GET. It lives here, with no behaviour, so that the single sign-on package can offer buttons
// and the pages can show them without either importing the other.
type SSOButton struct {
	Label string
	URL   string
}
