package store

import (
	"context"
	"runtime"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/tracing"
)

// WithTracerProvider makes the store record a span for each transaction (InTx, ReadTx) and each
// prepared read of the request hot path, named after the Store method that ran it
// ("store.UserByEmail"). A nil provider (tracing off) records nothing and costs nothing.
//
// Spans are made only inside a trace (a request, a mail delivery): background work that runs
// outside one, such as the mail dispatcher polling the outbox every few seconds, would
// otherwise fill the collector with one-span traces.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(s *Store) { s.tracer = tracing.Tracer(tp, "github.com/gatehousehq/gatehouse/internal/store") }
}

// traceOp starts the span of one store operation when tracing is on and ctx is part of a
// trace; done ends it with the operation's error. kind is "transaction" or "read".
func (s *Store) traceOp(ctx context.Context, kind string, readOnly bool) (context.Context, func(error)) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, func(error) {}
	}
	op := operationName()
	ctx, span := s.tracer.Start(ctx, "store."+op, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("db.system", dbSystem(s.cfg.Type)),
		attribute.String("db.system.name", dbSystem(s.cfg.Type)),
		attribute.String("db.namespace", s.dbNamespace()),
		attribute.String("db.operation.name", op),
		attribute.String("gatehouse.db.kind", kind),
		attribute.Bool("gatehouse.db.read_only", readOnly),
	))
	return ctx, func(err error) { tracing.End(span, err) }
}

// dbSystem is the OpenTelemetry db.system value of an engine (Galera is MariaDB).
func dbSystem(engine string) string {
	switch engine {
	case config.DBPostgres:
		return "postgresql"
	case config.DBGalera, config.DBMariaDB:
		return "mariadb"
	}
	return engine // sqlite, mysql
}

func (s *Store) dbNamespace() string {
	if s.cfg.Type == config.DBSQLite {
		return "main"
	}
	return s.cfg.Name
}

// txMachinery are the functions between a Store method and the span; operationName looks past
// them for the method that asked for the transaction.
var txMachinery = map[string]bool{
	"traceOp": true, "runTx": true, "InTx": true, "ReadTx": true, "readStmt": true, "operationName": true,
}

// opNames caches the operation name of each caller's program counter.
var opNames sync.Map // uintptr -> string

// operationName returns the name of the Store method that started the current transaction or
// read, such as "UserByEmail": the first exported method up the stack, so that a public method
// that runs its transaction through an unexported helper (MarkMailSent through finishMail) is
// named after itself; failing that the innermost store function, and "InTx" for a caller
// outside this package. It costs a stack walk, made only when tracing is on.
func operationName() string {
	var pcs [16]uintptr
	n := runtime.Callers(2, pcs[:])
	fallback := ""
	for _, pc := range pcs[:n] {
		v, ok := opNames.Load(pc)
		if !ok {
			v, _ = opNames.LoadOrStore(pc, methodName(pc))
		}
		name := v.(string)
		if name == "" {
			continue
		}
		if r := name[0]; 'A' <= r && r <= 'Z' {
			return name
		}
		if fallback == "" {
			fallback = name
		}
	}
	if fallback != "" {
		return fallback
	}
	return "InTx"
}

// methodName is the store method of pc, or "" for the transaction machinery and other
// packages' code.
func methodName(pc uintptr) string {
	f := runtime.FuncForPC(pc - 1)
	if f == nil {
		return ""
	}
	full := f.Name() // github.com/gatehousehq/gatehouse/internal/store.(*Store).UserByEmail.func1
	const pkg = "github.com/gatehousehq/gatehouse/internal/store."
	if !strings.HasPrefix(full, pkg) {
		return ""
	}
	name := strings.TrimPrefix(strings.TrimPrefix(full, pkg), "(*Store).")
	if i := strings.Index(name, "."); i >= 0 { // a closure or generic instance inside the method
		name = name[:i]
	}
	if txMachinery[name] || strings.HasPrefix(name, "func") {
		return ""
	}
	return name
}
