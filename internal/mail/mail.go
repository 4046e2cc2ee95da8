// Package mail sends Gatehouse's email: the messages of the account flows, rendered from
// embedded templates branded with the product name (Render), delivered over SMTP (SMTPSender)
// by a dispatcher that works outside the request from an outbox kept in the database
// (Dispatcher), with retries and bounded backoff. A message that cannot be delivered is logged
// with its reason and stays in the outbox as failed; none is silently dropped.
//
// Links in messages are absolute and built by the caller from PUBLIC_URL only, never from a
// request's Host header; this package only renders what it is given.
package mail

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/gatehousehq/gatehouse"
)

// Message is one email to one recipient. Text is required; HTML, when set, is sent as the
// alternative part that mail clients prefer.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Sender delivers one message now, or says why it could not.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Validate checks that m can be sent as it is: one recipient address, a subject and a text body,
// and no line breaks in header values (they would let data inject headers).
func (m Message) Validate() error {
	switch {
	case strings.TrimSpace(m.To) == "":
		return gatehouse.FieldError("to", "is required")
	case strings.ContainsAny(m.To, "\r\n"):
		return gatehouse.FieldError("to", "must not contain line breaks")
	case strings.TrimSpace(m.Subject) == "":
		return gatehouse.FieldError("subject", "is required")
	case strings.ContainsAny(m.Subject, "\r\n"):
		return gatehouse.FieldError("subject", "must not contain line breaks")
	case strings.TrimSpace(m.Text) == "":
		return gatehouse.FieldError("text", "is required")
	}
	if _, err := mail.ParseAddress(m.To); err != nil {
		return &gatehouse.Error{Code: gatehouse.EInvalid, Message: "to: must be one email address",
			Fields: map[string]string{"to": "must be one email address"}, Err: fmt.Errorf("parse %q: %w", m.To, err)}
	}
	return nil
}
