package config

import (
	"strings"
	"testing"
)

func TestTracingConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		vars   map[string]string
		on     bool
		url    string
		header string
	}{
		{"off by default", map[string]string{}, false, "", ""},
		{"base endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"}, true, "http://collector:4318/v1/traces", ""},
		{"traces endpoint wins", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://b/custom"}, true, "https://b/custom", ""},
		{"enabled without endpoint", map[string]string{"TRACING_ENABLED": "true"}, true, DefaultTracesURL, ""},
		{"disabled with endpoint", map[string]string{"TRACING_ENABLED": "false", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318"}, false, "http://a:4318/v1/traces", ""},
		{"headers", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20abc, x-tenant = t1"}, true, "http://a:4318/v1/traces", "Bearer abc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.vars))
			if err != nil {
				t.Fatal(err)
			}
			tr := c.Tracing
			if tr.On != tc.on || (tc.url != "" && tr.URL != tc.url) || tr.Headers["authorization"] != tc.header {
				t.Fatalf("got %+v", tr)
			}
			if tr.ServiceName != "gatehouse" || tr.Sampler != "parentbased_always_on" || *tr.SamplerArg != 1 {
				t.Fatalf("defaults: %+v", tr)
			}
		})
	}
	c, err := Load(env(map[string]string{"OTEL_SERVICE_NAME": "gh-eu", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"}))
	if err != nil || c.Tracing.ServiceName != "gh-eu" || c.Tracing.Sampler != "parentbased_traceidratio" || *c.Tracing.SamplerArg != 0.25 {
		t.Fatalf("%+v, %v", c.Tracing, err)
	}
	for name, v := range map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "ftp://x/v1/traces",
		"OTEL_TRACES_SAMPLER": "sometimes", "OTEL_TRACES_SAMPLER_ARG": "1.5", "TRACING_ENABLED": "maybe",
		"OTEL_EXPORTER_OTLP_HEADERS": "no-equals-sign",
	} {
		if _, err := Load(env(map[string]string{name: v})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: %v, want a problem naming it", name, v, err)
		}
	}
	// The headers are a secret: a bad value is not echoed.
	if _, err := Load(env(map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "token-without-key"})); err == nil || strings.Contains(err.Error(), "token-without-key") {
		t.Errorf("headers echoed: %v", err)
	}
}
