package mail

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehousehq/gatehouse"
)

// deliverTraced is deliver inside a mail.deliver span (its own trace: deliveries happen outside
// any request), so that the SMTP send and the store calls recording the outcome are its
// children. Without a tracer it is deliver.
func (d *Dispatcher) deliverTraced(ctx context.Context, m gatehouse.OutboxMail) bool {
	if d.tracer == nil {
		return d.deliver(ctx, m)
	}
	ctx, span := d.tracer.Start(ctx, "mail.deliver", trace.WithNewRoot(), trace.WithAttributes(
		attribute.Int64("gatehouse.mail.id", m.ID),
		attribute.Int("gatehouse.mail.attempt", m.Attempts),
	))
	sent := d.deliver(ctx, m)
	span.SetAttributes(attribute.Bool("gatehouse.mail.sent", sent))
	span.End()
	return sent
}

// tracedSender makes each SMTP send a client span. Recipients and subjects are not recorded:
// they are personal data, and the outbox row (gatehouse.mail.id on the parent span) has them.
type tracedSender struct {
	Sender
	tracer trace.Tracer
}

func (t tracedSender) Send(ctx context.Context, m Message) error {
	ctx, span := t.tracer.Start(ctx, "smtp.send", trace.WithSpanKind(trace.SpanKindClient))
	err := t.Sender.Send(ctx, m)
	if err != nil {
		span.SetStatus(codes.Error, "not sent") // the reason (server replies) may name the recipient
	}
	span.End()
	return err
}
