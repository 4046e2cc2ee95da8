package httpapi

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehousehq/gatehouse/internal/tracing"
)

// traceRequests makes a server span of every request when tracing is on (s.tracer not nil);
// otherwise it is not in the chain at all. It sits inside requestID, so the span carries the
// request id, and outside recovery, so a panic is seen as the 500 it is answered with. An
// incoming W3C traceparent makes the span a child of the caller's (the sampler decides whether
// to follow the caller's sampling decision; see OTEL_TRACES_SAMPLER).
//
// The span is named "METHOD route" after the matched pattern, never the raw path (which may
// hold tokens and is unbounded); the path itself is not recorded.
func (s *server) traceRequests(next http.Handler) http.Handler {
	if s.tracer == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r)
		route, method := routeLabel(st.Pattern), methodLabel(r.Method)
		ctx := tracing.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := s.tracer.Start(ctx, method+" "+route, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
			attribute.String("http.request.method", method),
			attribute.String("http.route", route),
			attribute.String("network.protocol.version", protocolVersion(r)),
			attribute.String("gatehouse.request_id", st.ID),
		))
		completed := false
		defer func() {
			status := st.rw.statusOr(http.StatusOK)
			if !completed && !st.rw.wroteHeader {
				status = http.StatusInternalServerError
			}
			span.SetAttributes(attribute.Int("http.response.status_code", status))
			if st.userID != 0 {
				span.SetAttributes(attribute.Int64("user.id", st.userID))
			}
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			span.End()
		}()
		next.ServeHTTP(w, r.WithContext(ctx))
		completed = true
	})
}

// protocolVersion is the HTTP version as OpenTelemetry writes it ("1.1", "2").
func protocolVersion(r *http.Request) string {
	switch r.ProtoMajor {
	case 2:
		return "2"
	case 3:
		return "3"
	}
	if r.ProtoMinor == 0 {
		return "1.0"
	}
	return "1.1"
}
