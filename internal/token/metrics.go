package token

import (
	"errors"
	"sync/atomic"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// verifyCounts counts the verifications made in full (signature and claims). Those answered
// from the cache are the cache's hits.
type verifyCounts struct {
	valid, expired, invalid atomic.Int64
}

// countFailure counts a verification in full that failed.
func (v *verifyCounts) countFailure(err error) {
	if errors.Is(err, jwt.ErrTokenExpired) {
		v.expired.Add(1)
		return
	}
	v.invalid.Add(1)
}

// Collector returns the Prometheus collector of access-token verifications:
//
//	gatehouse_token_verifications_total{cached="true",result="valid"}     answered from the verified-token cache
//	gatehouse_token_verifications_total{cached="false",result="valid"}    verified in full (signature and claims)
//	gatehouse_token_verifications_total{cached="false",result="expired"}  refused: expired
//	gatehouse_token_verifications_total{cached="false",result="invalid"}  refused: anything else (signature, claims, form)
//
// The cache holds only tokens that verified, so a cached answer is always valid. The counters
// are read at scrape time from the ones Verify keeps anyway (atomic adds, nothing on a map).
func (m *Manager) Collector() prometheus.Collector {
	return &verifyCollector{m: m, desc: prometheus.NewDesc("gatehouse_token_verifications_total",
		"Access-token verifications, by whether the verified-token cache answered (cached) and the outcome (result).",
		[]string{"cached", "result"}, nil)}
}

type verifyCollector struct {
	m    *Manager
	desc *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *verifyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *verifyCollector) Collect(ch chan<- prometheus.Metric) {
	v := &c.m.verifyCounts
	counter := func(n int64, cached, result string) {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(n), cached, result)
	}
	counter(c.m.CacheStats().Hits, "true", "valid")
	counter(v.valid.Load(), "false", "valid")
	counter(v.expired.Load(), "false", "expired")
	counter(v.invalid.Load(), "false", "invalid")
}
