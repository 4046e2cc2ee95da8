package config

import (
	"net/url"
	"strconv"
	"strings"
)

// Tracing configures the optional OpenTelemetry traces (OTLP over HTTP). The variables are the
// standard OpenTelemetry ones, so that a collector set-up written for other services works as
// is; TRACING_ENABLED is Gatehouse's own switch. Tracing is off unless an endpoint is set or
// TRACING_ENABLED=true.
type Tracing struct {
	// Enabled is TRACING_ENABLED; nil when unset (then an endpoint turns tracing on).
	Enabled *bool
	// Endpoint is OTEL_EXPORTER_OTLP_ENDPOINT, the collector's base URL (traces go to
	// Endpoint + "/v1/traces").
	Endpoint string
	// TracesEndpoint is OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, the full URL of the traces
	// endpoint, used as is; it wins over Endpoint.
	TracesEndpoint string
	// Headers is OTEL_EXPORTER_OTLP_HEADERS: sent with every export (collector credentials).
	Headers map[string]string
	// ServiceName is OTEL_SERVICE_NAME; empty means "gatehouse".
	ServiceName string
	// Sampler is OTEL_TRACES_SAMPLER; empty means "parentbased_always_on".
	Sampler string
	// SamplerArg is OTEL_TRACES_SAMPLER_ARG, the ratio of the *traceidratio samplers; nil
	// means 1.
	SamplerArg *float64

	// On and URL are resolved from the above by Load: whether traces are exported, and where.
	On  bool
	URL string
}

// DefaultTracesURL is where traces go with TRACING_ENABLED=true and no endpoint: a collector on
// the same host (the OpenTelemetry default for OTLP over HTTP).
const DefaultTracesURL = "http://localhost:4318/v1/traces"

// Samplers accepted by OTEL_TRACES_SAMPLER (the OpenTelemetry names).
var samplers = []string{"always_on", "always_off", "traceidratio",
	"parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"}

// tracingVars are the tracing rows of the variable table.
var tracingVars = []Var{
	{Name: "TRACING_ENABLED", Default: "on when an OTLP endpoint is set", Doc: "`true` exports OpenTelemetry traces (OTLP over HTTP, protobuf) even without an endpoint (then to `" + DefaultTracesURL + "`); `false` turns them off even with one. Off by default: with no endpoint and no `true`, no span is made at all. See docs/observability.md.",
		set: func(c *Config, v string) error {
			var b bool
			if err := boolean(&b, v); err != nil {
				return err
			}
			c.Tracing.Enabled = &b
			return nil
		}},
	{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Doc: "Base URL of an OpenTelemetry collector's OTLP/HTTP receiver (for example `http://otel-collector:4318`); traces are sent to it with `/v1/traces` appended. Setting it turns tracing on. Only OTLP over HTTP is spoken (port 4318 by convention, not gRPC's 4317).",
		set: func(c *Config, v string) error { return httpURL(&c.Tracing.Endpoint, v) }},
	{Name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", Doc: "Full URL of the OTLP/HTTP traces endpoint, used as is (wins over OTEL_EXPORTER_OTLP_ENDPOINT). Setting it turns tracing on.",
		set: func(c *Config, v string) error { return httpURL(&c.Tracing.TracesEndpoint, v) }},
	{Name: "OTEL_EXPORTER_OTLP_HEADERS", Doc: "Headers sent with every export, as `key=value` pairs separated by commas, values URL-encoded (for example `authorization=Bearer%20abc`), as the OpenTelemetry specification says.", File: true, Secret: true,
		set: func(c *Config, v string) error { return otlpHeaders(&c.Tracing.Headers, v) }},
	{Name: "OTEL_SERVICE_NAME", Default: "gatehouse", Doc: "`service.name` of the exported spans; give each deployment its own when several share a collector.",
		set: func(c *Config, v string) error { return nonEmpty(&c.Tracing.ServiceName, strings.TrimSpace(v)) }},
	{Name: "OTEL_TRACES_SAMPLER", Default: "parentbased_always_on", Doc: "Which requests are traced: `always_on`, `always_off`, `traceidratio` (the fraction OTEL_TRACES_SAMPLER_ARG of traces), or the `parentbased_` variants of these, which follow the caller's decision in an incoming `traceparent` header and apply the named sampler only to requests that arrive without one.",
		set: func(c *Config, v string) error { return oneOf(&c.Tracing.Sampler, v, samplers...) }},
	{Name: "OTEL_TRACES_SAMPLER_ARG", Default: "1", Doc: "The fraction (0 to 1) of traces the `traceidratio` samplers keep, for example `0.05`.",
		set: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				return accepts("a number from 0 to 1, such as 0.1")
			}
			c.Tracing.SamplerArg = &f
			return nil
		}},
}

// finishTracing resolves whether traces are exported, and where.
func (c *Config) finishTracing() []Problem {
	t := &c.Tracing
	switch {
	case t.TracesEndpoint != "":
		t.URL = t.TracesEndpoint
	case t.Endpoint != "":
		t.URL = strings.TrimRight(t.Endpoint, "/") + "/v1/traces"
	}
	t.On = t.URL != ""
	if t.Enabled != nil {
		t.On = *t.Enabled
	}
	if t.On && t.URL == "" {
		t.URL = DefaultTracesURL
	}
	if t.ServiceName == "" {
		t.ServiceName = "gatehouse"
	}
	if t.Sampler == "" {
		t.Sampler = "parentbased_always_on"
	}
	if t.SamplerArg == nil {
		one := 1.0
		t.SamplerArg = &one
	}
	return nil
}

// httpURL accepts an absolute http or https URL with a host.
func httpURL(dst *string, v string) error {
	v = strings.TrimSpace(v)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return accepts("an http:// or https:// URL with a host and no credentials, such as http://otel-collector:4318")
	}
	*dst = v
	return nil
}

// otlpHeaders parses the OpenTelemetry header list: comma-separated key=value, values
// URL-encoded.
func otlpHeaders(dst *map[string]string, v string) error {
	const want = "comma-separated key=value pairs with URL-encoded values, such as authorization=Bearer%20abc"
	h := map[string]string{}
	for _, pair := range strings.Split(v, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, val, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t\r\n:") {
			return accepts(want)
		}
		dec, err := url.PathUnescape(strings.TrimSpace(val))
		if err != nil || strings.ContainsAny(dec, "\r\n") {
			return accepts(want)
		}
		h[k] = dec
	}
	*dst = h
	return nil
}
