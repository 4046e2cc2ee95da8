package auth

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehousehq/gatehouse"
)

// Login outcome labels of gatehouse_logins_total. The set is closed, so the number of series is
// fixed whatever clients send.
const (
	loginSuccess = "success"
	loginFailure = "failure"
)

// Reasons: for a success, how the login completed; for a failure, why it was refused.
var (
	successReasons = []string{"password", "two_factor", "sso", "email", "other"}
	failureReasons = []string{"bad_credentials", "locked", "inactive", "sso_only", "throttled", "two_factor", "sso", "other"}
)

// metrics are the account service's Prometheus collectors. They are derived from the audit
// events the flows record anyway (see observe), so the flows need no counting code of their own
// and the metrics cannot disagree with the audit trail.
type metrics struct {
	logins   *prometheus.CounterVec
	lockouts prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_logins_total",
			Help: "Completed sign-ins (result=success) and refused ones (result=failure), by reason. A login that continues with a second factor counts once, when the second step passes or fails.",
		}, []string{"result", "reason"}),
		lockouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_lockouts_total",
			Help: "Accounts locked after too many failed logins (SECURITY_LOCKOUT_AFTER).",
		}),
	}
	// Every series exists from the start, at 0, so that rates and alerts work before the first
	// event of each kind.
	for _, r := range successReasons {
		m.logins.WithLabelValues(loginSuccess, r)
	}
	for _, r := range failureReasons {
		m.logins.WithLabelValues(loginFailure, r)
	}
	return m
}

// Collectors returns the account metrics, to register on the registry /metrics serves:
//
//	gatehouse_logins_total{result="success",reason="password|two_factor|sso|email|other"}
//	gatehouse_logins_total{result="failure",reason="bad_credentials|locked|inactive|sso_only|throttled|two_factor|sso|other"}
//	gatehouse_lockouts_total
func (s *Service) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.metrics.logins, s.metrics.lockouts}
}

// observe counts the login outcomes among audit events. The audit detail texts are the ones
// login.go, twofactor_login.go and sso.go write.
func (m *metrics) observe(ev gatehouse.AuditEvent) {
	switch ev.Event {
	case gatehouse.AuditLoginSuccess:
		reason := "other"
		switch d := ev.Detail; {
		case d == "":
			reason = "password"
		case strings.HasPrefix(d, "second factor"):
			reason = "two_factor"
		case strings.HasPrefix(d, "sso "):
			reason = "sso"
		case strings.HasPrefix(d, "email "): // "email code", "email link" (emailsignin.go)
			reason = "email"
		}
		m.logins.WithLabelValues(loginSuccess, reason).Inc()
	case gatehouse.AuditLoginFailure:
		reason := "other"
		// Sign-in by email fails for the same reasons, said with a prefix (emailsignin.go).
		switch d := strings.TrimPrefix(strings.TrimPrefix(ev.Detail, "email code: "), "email link: "); {
		case d == "unknown email", d == "wrong password", d == "wrong code":
			reason = "bad_credentials"
		case d == "account locked":
			reason = "locked"
		case d == "account inactive":
			reason = "inactive"
		case strings.HasPrefix(d, "password login refused"):
			reason = "sso_only"
		case strings.HasPrefix(d, "sso "):
			reason = "sso"
		}
		m.logins.WithLabelValues(loginFailure, reason).Inc()
	case gatehouse.AuditTwoFactorFailure:
		m.logins.WithLabelValues(loginFailure, "two_factor").Inc()
	case gatehouse.AuditLockout:
		m.lockouts.Inc()
	}
}

// throttled counts a login refused because its account or address is in backoff (429). Such a
// refusal is not audited (it would let anyone fill the audit table), so it is counted here.
func (m *metrics) throttled() { m.logins.WithLabelValues(loginFailure, "throttled").Inc() }
