package transport

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
)

// Recover is the one panic recovery of every chain: a panic while serving becomes answer's
// error response (the API's envelope, the pages' error page) and one log line with the stack,
// written by answer from the *Panic it is given, so that a bug in one handler neither kills the
// connection silently nor shows the client the panic text.
//
// started reports whether the response's status has gone out before the panic. Then no second
// response can be written: answer only logs, and the handler is aborted with
// http.ErrAbortHandler, so that net/http cuts the connection and the client cannot take a
// truncated body for a complete one. A panic with http.ErrAbortHandler itself (the deliberate way
// to abort a response) is passed on untouched.
func Recover(next http.Handler, started func(http.ResponseWriter, *http.Request) bool, answer func(http.ResponseWriter, *http.Request, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			sent := started(w, r)
			answer(w, r, &Panic{Value: v, stack: debug.Stack()})
			if sent {
				panic(http.ErrAbortHandler)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// Panic is a recovered panic, as Recover hands it to the error writer: an internal error whose
// stack is logged (rest.Stacker) and never sent.
type Panic struct {
	// Value is what was passed to panic.
	Value any
	stack []byte
}

func (p *Panic) Error() string { return fmt.Sprintf("panic: %v", p.Value) }

// Stack is the goroutine's stack where the panic was recovered.
func (p *Panic) Stack() []byte { return p.stack }
