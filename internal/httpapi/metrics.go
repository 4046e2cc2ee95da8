package httpapi

import (
	"database/sql"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehousehq/gatehouse/internal/transport"
)

// httpMetrics are the server's Prometheus collectors.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// series caches the counter and histogram of each (route, method, code) seen so far. The
	// label set is bounded (route patterns, methodLabel, status codes), and looking a series up
	// by label map costs a map, three label hashes and two locks per request; a cached pair
	// costs one sync.Map load.
	series sync.Map // seriesKey -> *seriesPair
}

// seriesKey names one time series; route is the route label, so unmatched paths share one key.
type seriesKey struct {
	route, method string
	code          int
}

type seriesPair struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// observe counts a request and records its duration under the series' labels.
func (m *httpMetrics) observe(route, method string, code int, d time.Duration) {
	k := seriesKey{route: route, method: method, code: code}
	v, ok := m.series.Load(k)
	if !ok {
		labels := prometheus.Labels{"route": route, "method": method, "code": strconv.Itoa(code)}
		v, _ = m.series.LoadOrStore(k, &seriesPair{
			requests: m.requests.With(labels),
			duration: m.duration.With(labels),
		})
	}
	p := v.(*seriesPair)
	p.requests.Inc()
	p.duration.Observe(d.Seconds())
}

// newHTTPMetrics creates and registers the HTTP collectors, the build-info gauge and, when dbStats
// is set, the database pool collector.
func newHTTPMetrics(reg prometheus.Registerer, version string, dbStats func() sql.DBStats) *httpMetrics {
	labels := []string{"route", "method", "code"}
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern, method and status code.",
			Buckets: prometheus.DefBuckets,
		}, labels),
	}
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gatehouse_build_info",
		Help: "Always 1; the labels say which build is running.",
	}, []string{"version", "goversion"})
	buildInfo.WithLabelValues(version, runtime.Version()).Set(1)

	reg.MustRegister(m.requests, m.duration, buildInfo)
	if dbStats != nil {
		reg.MustRegister(newDBStatsCollector(dbStats, "gatehouse"))
	}
	return m
}

// instrument counts and times every request. Like the access log it records in a deferred call, so
// a panicking handler is counted as the 500 the recovery layer will send.
func (s *server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r)
		start := time.Now()
		completed := false
		defer func() {
			status := st.rw.statusOr(http.StatusOK)
			if !completed && !st.rw.wroteHeader {
				status = http.StatusInternalServerError
			}
			s.metrics.observe(routeLabel(st.Pattern), methodLabel(r.Method), status, time.Since(start))
		}()
		next.ServeHTTP(w, r)
		completed = true
	})
}

// routeLabel is the path part of the matched pattern (the method is its own label), or a fixed
// value for requests that matched nothing.
func routeLabel(pattern string) string { return transport.RouteLabel(pattern) }

// methodLabel keeps the method label bounded: clients may send any token as a method.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// dbStatsCollector exports database/sql pool statistics under the same names as client_golang's
// collectors.NewDBStatsCollector, so existing dashboards work. That collector needs a *sql.DB; this
// one only needs the stats function, which keeps the store's handle out of the HTTP layer.
type dbStatsCollector struct {
	stats func() sql.DBStats
	descs dbStatsDescs
}

type dbStatsDescs struct {
	maxOpen, open, inUse, idle                          *prometheus.Desc
	waitCount, waitDuration                             *prometheus.Desc
	maxIdleClosed, maxIdleTimeClosed, maxLifetimeClosed *prometheus.Desc
}

func newDBStatsCollector(stats func() sql.DBStats, dbName string) *dbStatsCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("go_sql_"+name, help, nil, prometheus.Labels{"db_name": dbName})
	}
	return &dbStatsCollector{stats: stats, descs: dbStatsDescs{
		maxOpen:           desc("max_open_connections", "Maximum number of open connections to the database."),
		open:              desc("open_connections", "The number of established connections both in use and idle."),
		inUse:             desc("in_use_connections", "The number of connections currently in use."),
		idle:              desc("idle_connections", "The number of idle connections."),
		waitCount:         desc("wait_count_total", "The total number of connections waited for."),
		waitDuration:      desc("wait_duration_seconds_total", "The total time blocked waiting for a new connection."),
		maxIdleClosed:     desc("max_idle_closed_total", "The total number of connections closed due to SetMaxIdleConns."),
		maxIdleTimeClosed: desc("max_idle_time_closed_total", "The total number of connections closed due to SetConnMaxIdleTime."),
		maxLifetimeClosed: desc("max_lifetime_closed_total", "The total number of connections closed due to SetConnMaxLifetime."),
	}}
}

// Describe implements prometheus.Collector.
func (c *dbStatsCollector) Describe(ch chan<- *prometheus.Desc) {
	d := c.descs
	for _, desc := range []*prometheus.Desc{d.maxOpen, d.open, d.inUse, d.idle, d.waitCount,
		d.waitDuration, d.maxIdleClosed, d.maxIdleTimeClosed, d.maxLifetimeClosed} {
		ch <- desc
	}
}

// Collect implements prometheus.Collector.
func (c *dbStatsCollector) Collect(ch chan<- prometheus.Metric) {
	s, d := c.stats(), c.descs
	gauge := func(desc *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v)
	}
	counter := func(desc *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, v)
	}
	gauge(d.maxOpen, float64(s.MaxOpenConnections))
	gauge(d.open, float64(s.OpenConnections))
	gauge(d.inUse, float64(s.InUse))
	gauge(d.idle, float64(s.Idle))
	counter(d.waitCount, float64(s.WaitCount))
	counter(d.waitDuration, s.WaitDuration.Seconds())
	counter(d.maxIdleClosed, float64(s.MaxIdleClosed))
	counter(d.maxIdleTimeClosed, float64(s.MaxIdleTimeClosed))
	counter(d.maxLifetimeClosed, float64(s.MaxLifetimeClosed))
}
