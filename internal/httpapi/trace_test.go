package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// The server span sees what the client sees: a panic is the 500 the recovery layer answers,
// and an unknown path is named "unmatched", never by its raw path.
func TestTraceSpanStatusAndName(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	h := NewServer(Deps{TracerProvider: tp}, WithRoutes(Route{Pattern: "GET /api/v1/boom", Handler: func(http.ResponseWriter, *http.Request) error {
		panic("boom")
	}}))
	for _, path := range []string{"/api/v1/boom", "/api/v1/no/such/thing?token=SECRET"} {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	want := []struct {
		name   string
		status int64
		err    bool
	}{{"GET /api/v1/boom", 500, true}, {"GET unmatched", 404, false}}
	for i, s := range spans {
		attrs := map[string]any{}
		for _, a := range s.Attributes {
			attrs[string(a.Key)] = a.Value.AsInterface()
		}
		w := want[i]
		if s.Name != w.name || attrs["http.response.status_code"] != w.status || (s.Status.Code.String() == "Error") != w.err {
			t.Errorf("span %d: %s %v %v, want %+v", i, s.Name, attrs, s.Status, w)
		}
		if id, _ := attrs["gatehouse.request_id"].(string); id == "" {
			t.Errorf("span %s has no request id", s.Name)
		}
	}
}
