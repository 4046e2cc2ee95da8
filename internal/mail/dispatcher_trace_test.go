package mail_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/mail/mailtest"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// With tracing on, each delivery is a mail.deliver trace: the SMTP send (to a real in-process
// server) and the store call recording the outcome are its children; polling an empty outbox
// makes no span at all. Recipients are not recorded.
func TestDispatcherTraces(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		exp := tracetest.NewInMemoryExporter()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
		st, err := store.Open(ctx, db, store.WithTracerProvider(tp))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		srv := mailtest.Start(t, mailtest.Options{})
		o := fast(st, srv, t)
		o.TracerProvider = tp
		d := newDispatcher(t, o)
		if n, err := d.DeliverDue(ctx); err != nil || n != 0 {
			t.Fatalf("empty outbox: %d, %v", n, err)
		}
		if spans := exp.GetSpans(); len(spans) != 0 {
			t.Fatalf("polling an empty outbox made %d spans", len(spans))
		}
		if err := d.Enqueue(ctx, mail.Message{To: "alice@example.com", Subject: "s", Text: "t"}); err != nil {
			t.Fatal(err)
		}
		if n, err := d.DeliverDue(ctx); err != nil || n != 1 {
			t.Fatalf("DeliverDue = %d, %v", n, err)
		}
		spans := exp.GetSpans()
		byName := map[string]tracetest.SpanStub{}
		for _, s := range spans {
			byName[s.Name] = s
			for _, a := range s.Attributes {
				if a.Value.String() == "alice@example.com" {
					t.Errorf("%s records the recipient as %s", s.Name, a.Key)
				}
			}
		}
		root, send, mark := byName["mail.deliver"], byName["smtp.send"], byName["store.MarkMailSent"]
		if !root.SpanContext.IsValid() || root.Parent.IsValid() {
			t.Fatalf("no root mail.deliver span: %v", spans)
		}
		if send.Parent.SpanID() != root.SpanContext.SpanID() || mark.Parent.SpanID() != root.SpanContext.SpanID() {
			t.Fatalf("smtp.send and store.MarkMailSent are not children of mail.deliver: %+v", spans)
		}
	})
}
