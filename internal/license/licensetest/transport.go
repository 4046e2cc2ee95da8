package licensetest

import (
	"errors"
	"net/http"
	"net/http/httptest"
)

// errDropped is what the in-memory transport reports when the server drops the connection.
var errDropped = errors.New("licensetest: connection dropped without an answer")

// inMemory hands requests to the server in-process, in a goroutine of the caller's (so inside
// the caller's synctest bubble), honouring the request's context like a network transport.
type inMemory struct{ s *Server }

// RoundTrip implements http.RoundTripper.
func (t inMemory) RoundTrip(req *http.Request) (*http.Response, error) {
	type result struct {
		res *http.Response
		err error
	}
	done := make(chan result, 1)
	go func() {
		rec := httptest.NewRecorder()
		defer func() {
			if req.Body != nil {
				_ = req.Body.Close()
			}
			if p := recover(); p != nil {
				if err, ok := p.(error); !ok || !errors.Is(err, http.ErrAbortHandler) {
					panic(p)
				}
				done <- result{err: errDropped}
				return
			}
			res := rec.Result()
			res.Request = req
			done <- result{res: res}
		}()
		t.s.ServeHTTP(rec, req)
	}()
	select {
	case r := <-done:
		return r.res, r.err
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
}
