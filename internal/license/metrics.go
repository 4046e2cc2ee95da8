package license

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// collector exports the license state. It reads the published snapshot at scrape time, so the
// gauges follow expiry and the end of grace without waiting for a check.
type collector struct {
	c                                                     *Client
	valid, state, info, feature                           *prometheus.Desc
	expiry, lastSuccess, lastCheck, graceUntil, keepalive *prometheus.Desc
}

// Collector returns the Prometheus collector of the license state:
//
//	gatehouse_license_valid                               1 when gated features may be on (licensed or grace)
//	gatehouse_license_state{state}                        1 for the current state, 0 for the others
//	gatehouse_license_info{tier}                          1, labelled with the tier in force
//	gatehouse_license_feature_entitled{feature}           1 when HasFeature(feature) is true now
//	gatehouse_license_expiry_timestamp_seconds            expires_at of the license (absent when unknown or perpetual)
//	gatehouse_license_last_success_timestamp_seconds      last valid answer (absent before one)
//	gatehouse_license_last_check_timestamp_seconds        last completed check (absent before one)
//	gatehouse_license_grace_until_timestamp_seconds       when the last good answer stops counting (absent without one)
//	gatehouse_license_last_keepalive_timestamp_seconds    last accepted keepalive (absent before one)
//
// Register it once, on the registry /metrics serves.
func (c *Client) Collector() prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("gatehouse_license_"+name, help, labels, nil)
	}
	return &collector{
		c:           c,
		valid:       d("valid", "1 when gated features may be on (license valid, or within the grace period), else 0."),
		state:       d("state", "1 for the license client's current state, 0 for the others.", "state"),
		info:        d("info", "Always 1; the tier label is the tier in force.", "tier"),
		feature:     d("feature_entitled", "1 when the gated feature is on now, else 0.", "feature"),
		expiry:      d("expiry_timestamp_seconds", "Expiry of the license (Unix time), when it has one."),
		lastSuccess: d("last_success_timestamp_seconds", "Time of the last valid answer of the license server (Unix time)."),
		lastCheck:   d("last_check_timestamp_seconds", "Time of the last completed license check, successful or not (Unix time)."),
		graceUntil:  d("grace_until_timestamp_seconds", "When the last good answer stops counting if the server stays unreachable (Unix time)."),
		keepalive:   d("last_keepalive_timestamp_seconds", "Time of the last accepted keepalive (Unix time)."),
	}
}

// Describe implements prometheus.Collector.
func (m *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.valid, m.state, m.info, m.feature, m.expiry, m.lastSuccess, m.lastCheck, m.graceUntil, m.keepalive} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *collector) Collect(ch chan<- prometheus.Metric) {
	st := m.c.Status()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	bool01 := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	gauge(m.valid, bool01(st.Valid))
	for _, s := range states {
		gauge(m.state, bool01(s == st.State), string(s))
	}
	gauge(m.info, 1, st.Tier)
	names := make([]string, 0, len(st.Features))
	for _, f := range st.Features {
		names = append(names, f.Name)
		gauge(m.feature, bool01(f.Enabled), f.Name)
	}
	for _, w := range m.c.watched {
		if !slices.Contains(names, w) {
			gauge(m.feature, 0, w) // without a key Status lists no features; the gauges still exist
		}
	}
	stamp := func(d *prometheus.Desc, t time.Time) {
		if !t.IsZero() {
			gauge(d, float64(t.UnixMilli())/1000)
		}
	}
	stamp(m.expiry, st.ExpiresAt)
	stamp(m.lastSuccess, st.LastSuccess)
	stamp(m.lastCheck, st.LastCheck)
	stamp(m.graceUntil, st.GraceUntil)
	stamp(m.keepalive, st.LastKeepalive)
}
