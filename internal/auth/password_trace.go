package auth

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehousehq/gatehouse/internal/tracing"
)

// passwords is the Service's Hasher with the request context: each bcrypt computation (the
// largest cost of a login, by far) becomes a span when tracing is on and ctx is part of a trace
// (a request; not the CLI or start-up). With tracing off the tracer is nil and the methods call
// the Hasher directly.
type passwords struct {
	Hasher
	tracer trace.Tracer
}

func (p passwords) traced(ctx context.Context) bool {
	return p.tracer != nil && trace.SpanContextFromContext(ctx).IsValid()
}

func (p passwords) span(ctx context.Context, name string) trace.Span {
	_, span := p.tracer.Start(ctx, name, trace.WithAttributes(attribute.Int("gatehouse.bcrypt.cost", p.costOrDefault())))
	return span
}

// Verify is Hasher.Verify, traced as password.verify.
func (p passwords) Verify(ctx context.Context, hash, scheme, password string) (ok, needsRehash bool) {
	if !p.traced(ctx) {
		return p.Hasher.Verify(hash, scheme, password)
	}
	span := p.span(ctx, "password.verify")
	ok, needsRehash = p.Hasher.Verify(hash, scheme, password)
	span.SetAttributes(attribute.String("gatehouse.password.scheme", scheme), attribute.Bool("gatehouse.password.match", ok))
	span.End()
	return ok, needsRehash
}

// Hash is Hasher.Hash, traced as password.hash.
func (p passwords) Hash(ctx context.Context, password string) (hash, scheme string, err error) {
	if !p.traced(ctx) {
		return p.Hasher.Hash(password)
	}
	span := p.span(ctx, "password.hash")
	hash, scheme, err = p.Hasher.Hash(password)
	tracing.End(span, err)
	return hash, scheme, err
}

// DummyVerify is Hasher.DummyVerify, traced as password.verify like a real one: a trace must
// not tell an unknown account from a wrong password any more than the response time does.
func (p passwords) DummyVerify(ctx context.Context, password string) {
	if !p.traced(ctx) {
		p.Hasher.DummyVerify(password)
		return
	}
	span := p.span(ctx, "password.verify")
	p.Hasher.DummyVerify(password)
	span.SetAttributes(attribute.Bool("gatehouse.password.match", false))
	span.End()
}
