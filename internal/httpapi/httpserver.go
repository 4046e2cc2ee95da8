package httpapi

import (
	"net/http"
	"time"
)

// The server timeouts. ReadHeaderTimeout stops slow-loris clients holding connections open;
// ReadTimeout covers a full 1 MiB body on a slow link; WriteTimeout bounds a handler plus the
// response; IdleTimeout lets keep-alive connections be reused without hoarding them.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 120 * time.Second
	// MaxHeaderBytes leaves room for a bearer token and several cookies while keeping a single
	// request's headers far below net/http's 1 MiB default.
	MaxHeaderBytes = 64 << 10
)

// NewHTTPServer returns an http.Server for h with Gatehouse's timeouts and protocols. With tls set
// it offers HTTP/1.1 and HTTP/2 (negotiated by ALPN) with TLSConfig (TLS 1.2+, AEAD suites only);
// the caller adds the certificate or calls ServeTLS with its files. Without, it serves HTTP/1.1 and unencrypted HTTP/2 with prior knowledge
// (h2c, as behind a proxy that speaks HTTP/2 to its backends); Upgrade-based h2c is not supported.
//
// The caller may set ErrorLog (for example slog.NewLogLogger) so that net/http's own messages join
// the structured log.
func NewHTTPServer(addr string, h http.Handler, tls bool) *http.Server {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	if tls {
		protocols.SetHTTP2(true)
	} else {
		protocols.SetUnencryptedHTTP2(true)
	}
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		Protocols:         &protocols,
	}
	if tls {
		srv.TLSConfig = TLSConfig()
	}
	return srv
}
