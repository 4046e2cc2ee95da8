package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/tracing"
)

// startTracing builds the tracer provider when tracing is configured (TRACING_ENABLED or an
// OTLP endpoint); otherwise a.Tracing stays nil and nothing is traced.
func (a *App) startTracing(ctx context.Context) error {
	t := a.Config.Tracing
	if !t.On {
		return nil
	}
	ratio := 1.0
	if t.SamplerArg != nil {
		ratio = *t.SamplerArg
	}
	p, err := tracing.New(ctx, tracing.Config{
		URL: t.URL, Headers: t.Headers, ServiceName: t.ServiceName, ServiceVersion: a.version,
		Sampler: t.Sampler, Ratio: ratio, Logger: a.log,
	})
	if err != nil {
		return err
	}
	a.Tracing = p
	a.log.Info("tracing on: exporting OpenTelemetry spans over OTLP/HTTP", "endpoint", t.URL,
		"service_name", t.ServiceName, "sampler", t.Sampler, "sampler_arg", ratio)
	return nil
}

// tp is the tracer provider to hand to constructors: nil when tracing is off.
func (a *App) tp() trace.TracerProvider { return a.Tracing.TracerProvider() }

// stopTracing exports the spans still queued (bounded, so that an unreachable collector does
// not hold up the exit) and stops the exporter.
func (a *App) stopTracing() {
	if a.Tracing == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Tracing.Shutdown(ctx); err != nil {
		a.log.Warn("tracing: spans not flushed at shutdown", "error", err)
	}
	a.Tracing = nil
}

// registerCollectors adds the service's own collectors to a.Registry: the license state, the
// login and lockout counters, token verifications, readiness and the outbox gauges (the last
// two measured at scrape time; the outbox ones whether or not SMTP is configured).
func (a *App) registerCollectors() {
	if a.License != nil {
		a.Registry.MustRegister(a.License.Collector())
	}
	if a.Auth != nil {
		a.Registry.MustRegister(a.Auth.Collectors()...)
	}
	if a.Tokens != nil {
		a.Registry.MustRegister(a.Tokens.Collector())
	}
	if a.Store != nil {
		// The readiness probe's answer, for alerting from Prometheus (a load balancer only acts
		// on it): the database answers and its migrations are current.
		a.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_ready",
			Help: "1 when this instance is ready (database reachable, migrations current; what /readyz answers), else 0.",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			if a.Store.Ready(ctx) != nil {
				return 0
			}
			return 1
		}))
		a.Registry.MustRegister(mail.OutboxCollector(func(ctx context.Context) (int, time.Time, error) {
			st, err := a.Store.OutboxStats(ctx)
			return st.Pending, st.Oldest, err
		}, a.now, 0, a.log))
	}
}
