// Package tracing sets up Gatehouse's optional OpenTelemetry traces, exported over OTLP/HTTP.
//
// Tracing is off by default, and then costs nothing: New returns a nil *Provider, whose
// TracerProvider is nil, and every instrumented package checks for a nil provider (or tracer)
// once, at construction, and then skips its span code entirely; no no-op spans, contexts or
// attributes are made per request. When tracing is on, the provider is passed explicitly to
// the constructors that need it (store, auth, mail, license, HTTP); nothing is registered as
// OpenTelemetry's global provider or propagator.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehousehq/gatehouse"
)

// Config says where and how traces are exported.
type Config struct {
	// URL is the full OTLP/HTTP traces endpoint, such as http://collector:4318/v1/traces.
	URL string
	// Headers are sent with every export (collector credentials).
	Headers map[string]string
	// ServiceName and ServiceVersion describe this process in every span (service.name,
	// service.version); ServiceName defaults to "gatehouse".
	ServiceName, ServiceVersion string
	// Sampler is an OTEL_TRACES_SAMPLER name; empty means parentbased_always_on. Ratio is the
	// fraction the traceidratio samplers keep.
	Sampler string
	Ratio   float64
	// Logger receives export failures (the exporter retries, then drops the batch).
	Logger *slog.Logger
	// BatchTimeout is how long spans wait before export; 0 means the SDK's default (5 s).
	BatchTimeout time.Duration
}

// Provider is the process's tracer provider. A nil *Provider means tracing is off; all its
// methods accept a nil receiver.
type Provider struct {
	sdk *sdktrace.TracerProvider
}

// New builds the exporter and provider for cfg. It does not contact the collector: export
// failures are logged later and never stop the service.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if cfg.URL == "" {
		return nil, errors.New("tracing: no endpoint URL")
	}
	sampler, err := samplerFor(cfg.Sampler, cfg.Ratio)
	if err != nil {
		return nil, err
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(cfg.URL)}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(cfg.Headers))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	name := cfg.ServiceName
	if name == "" {
		name = "gatehouse"
	}
	res := resource.NewSchemaless(
		attribute.String("service.name", name),
		attribute.String("service.version", cfg.ServiceVersion),
		attribute.String("telemetry.sdk.name", "opentelemetry"),
		attribute.String("telemetry.sdk.language", "go"),
	)
	var bopts []sdktrace.BatchSpanProcessorOption
	if cfg.BatchTimeout > 0 {
		bopts = append(bopts, sdktrace.WithBatchTimeout(cfg.BatchTimeout))
	}
	if cfg.Logger != nil {
		routeErrors(cfg.Logger)
	}
	return &Provider{sdk: sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, bopts...),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sampler),
	)}, nil
}

// routeErrors sends the SDK's internal errors (failed exports) to the service's log instead of
// the standard library's logger. OpenTelemetry offers this only as a process-wide setting.
func routeErrors(log *slog.Logger) {
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing: spans not exported", "error", err)
	}))
}

// samplerFor maps the OTEL_TRACES_SAMPLER names to samplers.
func samplerFor(name string, ratio float64) (sdktrace.Sampler, error) {
	switch name {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), nil
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	}
	return nil, fmt.Errorf("tracing: unknown sampler %q", name)
}

// TracerProvider returns the provider to hand to constructors, or nil when tracing is off.
func (p *Provider) TracerProvider() trace.TracerProvider {
	if p == nil {
		return nil
	}
	return p.sdk
}

// ForceFlush exports every finished span now.
func (p *Provider) ForceFlush(ctx context.Context) error {
	if p == nil {
		return nil
	}
	return p.sdk.ForceFlush(ctx)
}

// Shutdown exports the spans still queued and stops the exporter; call it once, when the
// server has stopped.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	return p.sdk.Shutdown(ctx)
}

// Tracer returns the named tracer of tp, or nil when tp is nil (tracing off). Instrumented
// code keeps the result and tests it against nil before making any span.
func Tracer(tp trace.TracerProvider, name string) trace.Tracer {
	if tp == nil {
		return nil
	}
	return tp.Tracer(name)
}

// Propagator reads and writes W3C trace context (traceparent and tracestate headers). It is
// used explicitly, never installed as OpenTelemetry's global propagator.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// End ends span, recording err's domain code (gatehouse.ErrorCode) as gatehouse.error_code.
// Only failures of the service itself (internal, unavailable) mark the span as an error: a
// lookup that finds nothing or a refused request is an answer, not a fault. Error messages are
// not recorded, since wrapped errors name their arguments (email addresses among them).
func End(span trace.Span, err error) {
	if err != nil {
		code := gatehouse.ErrorCode(err)
		span.SetAttributes(attribute.String("gatehouse.error_code", string(code)))
		if code == gatehouse.EInternal || code == gatehouse.EUnavailable {
			span.SetStatus(codes.Error, string(code))
		}
	}
	span.End()
}
