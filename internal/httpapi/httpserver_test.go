package httpapi

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	json "encoding/json/v2"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startServer serves ts on a loopback port through NewHTTPServer, as cmd/gatehouse will.
func startServer(t *testing.T, ts *testServer) string {
	t.Helper()
	srv := NewHTTPServer("127.0.0.1:0", ts.handler, false)
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// response is what the tests need of an HTTP response, read and closed.
type response struct {
	protoMajor int
	header     http.Header
	body       []byte
}

func get(t *testing.T, client *http.Client, url string) (response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return response{protoMajor: resp.ProtoMajor, header: resp.Header, body: body}, err
}

// TestProtocols proves the plain-TCP listener speaks both HTTP/1.1 and h2c with prior knowledge.
func TestProtocols(t *testing.T) {
	base := startServer(t, newTestServer(t, nil))
	tests := []struct {
		name      string
		protocols func(*http.Protocols)
		wantMajor int
	}{
		{name: "h2c prior knowledge", protocols: func(p *http.Protocols) { p.SetUnencryptedHTTP2(true) }, wantMajor: 2},
		{name: "HTTP/1.1", protocols: func(p *http.Protocols) { p.SetHTTP1(true) }, wantMajor: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p http.Protocols
			tt.protocols(&p)
			transport := &http.Transport{Protocols: &p}
			defer transport.CloseIdleConnections()
			resp, err := get(t, &http.Client{Transport: transport, Timeout: 5 * time.Second}, base+"/api/v1/proto")
			if err != nil {
				t.Fatal(err)
			}
			if resp.protoMajor != tt.wantMajor {
				t.Errorf("response protocol major = %d", resp.protoMajor)
			}
			var env struct {
				Data int `json:"data"`
			}
			if err := json.Unmarshal(resp.body, &env); err != nil || env.Data != tt.wantMajor {
				t.Errorf("handler saw r.ProtoMajor = %d (%v): %s", env.Data, err, resp.body)
			}
			if resp.header.Get("Content-Type") != ContentTypeJSON {
				t.Errorf("headers = %v", resp.header)
			}
		})
	}
}

// TestTLSProtocols checks that, with TLS, NewHTTPServer's settings offer HTTP/2 through ALPN.
func TestTLSProtocols(t *testing.T) {
	cert, pool := selfSignedCert(t)
	srv := NewHTTPServer("127.0.0.1:0", newTestServer(t, nil).handler, true)
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	defer srv.Close()

	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(true)
	transport := &http.Transport{Protocols: &p, TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	defer transport.CloseIdleConnections()
	resp, err := get(t, &http.Client{Transport: transport, Timeout: 5 * time.Second}, "https://"+ln.Addr().String()+"/api/v1/proto")
	if err != nil {
		t.Fatal(err)
	}
	if resp.protoMajor != 2 {
		t.Errorf("TLS response protocol major = %d, want 2", resp.protoMajor)
	}
}

// selfSignedCert makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSignedCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "gatehouse test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestNewHTTPServerSettings(t *testing.T) {
	srv := NewHTTPServer(":8080", http.NotFoundHandler(), false)
	if srv.ReadHeaderTimeout != 5*time.Second || srv.ReadTimeout != 30*time.Second ||
		srv.WriteTimeout != 60*time.Second || srv.IdleTimeout != 120*time.Second ||
		srv.MaxHeaderBytes != MaxHeaderBytes || srv.Addr != ":8080" {
		t.Errorf("server = %+v", srv)
	}
	if p := srv.Protocols; !p.HTTP1() || !p.UnencryptedHTTP2() || p.HTTP2() {
		t.Errorf("plain protocols = %v", p)
	}
	if p := NewHTTPServer(":8443", http.NotFoundHandler(), true).Protocols; !p.HTTP1() || !p.HTTP2() || p.UnencryptedHTTP2() {
		t.Errorf("TLS protocols = %v", p)
	}
}

// A panic after the response started cannot become an envelope; the connection is cut so the
// client sees an error rather than a body that looks complete.
func TestLatePanicAbortsResponse(t *testing.T) {
	ts := newTestServer(t, nil)
	base := startServer(t, ts)
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	resp, err := get(t, &http.Client{Transport: transport, Timeout: 5 * time.Second}, base+"/api/v1/panic-late")
	if err == nil {
		t.Fatalf("client read a complete response: %q", resp.body)
	}
	if rec := ts.logs.find(t, "request failed"); rec["response_started"] != true || rec["stack"] == nil {
		t.Errorf("log record = %v", rec)
	}
}

// TestTLSAEADOnly: the server's TLS configuration offers TLS 1.2 with AEAD suites only, and a
// real client offering nothing but a CBC suite is refused in the handshake.
func TestTLSAEADOnly(t *testing.T) {
	cert, pool := selfSignedCert(t)
	srv := NewHTTPServer("127.0.0.1:0", newTestServer(t, nil).handler, true)
	if srv.TLSConfig == nil || srv.TLSConfig.MinVersion != tls.VersionTLS12 || len(srv.TLSConfig.CipherSuites) == 0 {
		t.Fatalf("TLSConfig = %+v", srv.TLSConfig)
	}
	for _, id := range srv.TLSConfig.CipherSuites {
		name := tls.CipherSuiteName(id)
		if !strings.Contains(name, "_GCM_") && !strings.Contains(name, "CHACHA20_POLY1305") {
			t.Errorf("non-AEAD suite offered: %s", name)
		}
	}
	srv.TLSConfig.Certificates = []tls.Certificate{cert}
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	defer srv.Close()

	handshake := func(suite uint16) error {
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{
			RootCAs: pool, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite},
		})
		if err == nil {
			_ = conn.Close()
		}
		return err
	}
	for _, cbc := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256} {
		if err := handshake(cbc); err == nil {
			t.Errorf("handshake offering only %s succeeded", tls.CipherSuiteName(cbc))
		}
	}
	if err := handshake(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256); err != nil {
		t.Errorf("AEAD handshake: %v", err)
	}
}
