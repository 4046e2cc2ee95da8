package transport

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRecover: a panic is answered through the given writer with the panic and its stack; after
// the response started it is answered (logged) and the handler aborted; http.ErrAbortHandler
// passes through untouched.
func TestRecover(t *testing.T) {
	var answered error
	answer := func(w http.ResponseWriter, _ *http.Request, err error) {
		answered = err
		w.WriteHeader(http.StatusInternalServerError)
	}
	started := func(w http.ResponseWriter, _ *http.Request) bool {
		return w.(*httptest.ResponseRecorder).Code != 0 && w.(*httptest.ResponseRecorder).Flushed
	}

	h := Recover(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("secret") }), started, answer)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	p, ok := errors.AsType[*Panic](answered)
	if rec.Code != http.StatusInternalServerError || !ok || p.Value != "secret" || !strings.Contains(string(p.Stack()), "recover_test.go") {
		t.Fatalf("panic answered %d with %v", rec.Code, answered)
	}

	answered = nil
	late := Recover(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		panic("late")
	}), started, answer)
	if v := recovered(func() { late.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil)) }); v != any(http.ErrAbortHandler) || answered == nil {
		t.Errorf("late panic: re-panicked with %v, answered %v", v, answered)
	}

	answered = nil
	abort := Recover(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }), started, answer)
	if v := recovered(func() { abort.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil)) }); v != any(http.ErrAbortHandler) || answered != nil {
		t.Errorf("ErrAbortHandler: re-panicked with %v, answered %v", v, answered)
	}
}

func recovered(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}
