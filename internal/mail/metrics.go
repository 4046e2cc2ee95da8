package mail

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// OutboxStatsFunc reports the pending messages of the outbox and when the oldest was queued
// (zero when none is pending); *store.Store's OutboxStats fits through a small adapter.
type OutboxStatsFunc func(ctx context.Context) (pending int, oldest time.Time, err error)

// DefaultOutboxScrapeTimeout bounds the query a scrape of the outbox gauges makes.
const DefaultOutboxScrapeTimeout = 2 * time.Second

// outboxCollector computes the outbox gauges at scrape time with one bounded query, so they are
// as fresh as the scrape and cost nothing between scrapes. When the query fails or times out
// (the database is away), the gauges are left out of that scrape rather than failing the whole
// /metrics answer: the readiness probe and go_sql_* say what is wrong.
type outboxCollector struct {
	stats          OutboxStatsFunc
	now            func() time.Time
	timeout        time.Duration
	log            *slog.Logger
	depth, age, ok *prometheus.Desc
}

// OutboxCollector returns the Prometheus collector of the outbox:
//
//	gatehouse_outbox_depth                       messages waiting to be sent (pending; counted up to 10,000)
//	gatehouse_outbox_oldest_age_seconds          how long the oldest of them has waited (0 when none)
//	gatehouse_outbox_stats_up                    1 when the last scrape's query succeeded, else 0
//
// timeout 0 means DefaultOutboxScrapeTimeout; now nil means time.Now; log nil discards.
func OutboxCollector(stats OutboxStatsFunc, now func() time.Time, timeout time.Duration, log *slog.Logger) prometheus.Collector {
	if now == nil {
		now = time.Now
	}
	if timeout <= 0 {
		timeout = DefaultOutboxScrapeTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &outboxCollector{
		stats: stats, now: now, timeout: timeout, log: log,
		depth: prometheus.NewDesc("gatehouse_outbox_depth", "Emails waiting in the outbox to be sent (pending, including those being retried); counted up to 10000.", nil, nil),
		age:   prometheus.NewDesc("gatehouse_outbox_oldest_age_seconds", "Seconds since the oldest email still waiting in the outbox was queued; 0 when none waits.", nil, nil),
		ok:    prometheus.NewDesc("gatehouse_outbox_stats_up", "1 when the outbox could be measured at this scrape, 0 when its query failed (then the two outbox gauges are absent).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.age
	ch <- c.ok
}

// Collect implements prometheus.Collector.
func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	pending, oldest, err := c.stats(ctx)
	if err != nil {
		c.log.Warn("outbox gauges not measured", "error", err)
		ch <- prometheus.MustNewConstMetric(c.ok, prometheus.GaugeValue, 0)
		return
	}
	age := 0.0
	if !oldest.IsZero() {
		age = max(c.now().Sub(oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.ok, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(pending))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
}
