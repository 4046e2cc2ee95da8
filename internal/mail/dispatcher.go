package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/gatehousehq/gatehouse"
)

// OutboxStore is what the dispatcher needs from the database (package store implements it).
// Every time is passed in from the dispatcher's clock, so scheduling and claiming agree.
type OutboxStore interface {
	// EnqueueMail stores m as pending and due at now, and fills in its ID.
	EnqueueMail(ctx context.Context, m *gatehouse.OutboxMail, now time.Time) error
	// ClaimDueMail leases up to limit messages due at now until now+lease, counting an attempt
	// on each; a message under someone else's lease is not returned. The returned LockedUntil
	// identifies the lease for the Mark methods.
	ClaimDueMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]gatehouse.OutboxMail, error)
	// MarkMailSent records the delivery; EConflict when the lease was lost.
	MarkMailSent(ctx context.Context, id int64, lease, now time.Time) error
	// MarkMailRetry releases the message, due again at next, with the reason; EConflict when
	// the lease was lost.
	MarkMailRetry(ctx context.Context, id int64, lease, next time.Time, reason string) error
	// MarkMailFailed gives up on the message, keeping it with the reason; EConflict when the
	// lease was lost.
	MarkMailFailed(ctx context.Context, id int64, lease time.Time, reason string) error
}

// Defaults of DispatcherOptions.
const (
	DefaultPollInterval = 5 * time.Second
	DefaultSendTimeout  = time.Minute
	DefaultLease        = 5 * time.Minute
	DefaultMinBackoff   = 30 * time.Second
	DefaultMaxBackoff   = time.Hour
	DefaultMaxAttempts  = 10
)

// DispatcherOptions configure a Dispatcher. Zero durations and counts take the defaults.
type DispatcherOptions struct {
	Store  OutboxStore // required
	Sender Sender      // required
	// Brand brands the messages EnqueueTemplate renders.
	Brand  Brand
	Logger *slog.Logger     // discards when nil
	Now    func() time.Time // time.Now when nil
	// TracerProvider, when not nil, traces each delivery (dispatcher_trace.go).
	TracerProvider trace.TracerProvider

	// PollInterval is how often Run looks for due messages when nothing woke it (a retry came
	// due, or another instance enqueued). Enqueue wakes it at once.
	PollInterval time.Duration
	// SendTimeout bounds one delivery attempt.
	SendTimeout time.Duration
	// Lease is how long a claimed message is reserved for this dispatcher; it must exceed
	// SendTimeout, or another instance could deliver the message a second time.
	Lease time.Duration
	// MinBackoff is the wait after the first failed attempt; each further failure doubles it,
	// up to MaxBackoff (30s, 1m, 2m, … 1h).
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// MaxAttempts is how many attempts a message gets before it is marked failed.
	MaxAttempts int
}

// Dispatcher keeps the outbox: Enqueue stores a message in the database, and Run delivers due
// messages in the background, retrying with bounded exponential backoff and marking a message
// failed (logged at error level with the reason, kept in the outbox) after MaxAttempts. Several
// dispatchers, in one process or many, may share a database: each message is claimed under a
// lease before it is sent, so only one delivers it.
type Dispatcher struct {
	store   OutboxStore
	sender  Sender
	brand   Brand
	log     *slog.Logger
	now     func() time.Time
	poll    time.Duration
	timeout time.Duration
	lease   time.Duration
	minBack time.Duration
	maxBack time.Duration
	maxAtt  int

	wake    chan struct{}
	running atomic.Bool
	tracer  trace.Tracer // nil when tracing is off
}

// NewDispatcher checks o and returns a dispatcher; call Run to start delivering.
func NewDispatcher(o DispatcherOptions) (*Dispatcher, error) {
	d := &Dispatcher{
		store: o.Store, sender: o.Sender, brand: o.Brand, log: o.Logger, now: o.Now,
		poll: o.PollInterval, timeout: o.SendTimeout, lease: o.Lease,
		minBack: o.MinBackoff, maxBack: o.MaxBackoff, maxAtt: o.MaxAttempts,
		wake: make(chan struct{}, 1),
	}
	if o.TracerProvider != nil && d.sender != nil {
		d.tracer = o.TracerProvider.Tracer("github.com/gatehousehq/gatehouse/internal/mail")
		d.sender = tracedSender{Sender: d.sender, tracer: d.tracer}
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	for _, f := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&d.poll, DefaultPollInterval}, {&d.timeout, DefaultSendTimeout}, {&d.lease, DefaultLease},
		{&d.minBack, DefaultMinBackoff}, {&d.maxBack, DefaultMaxBackoff}} {
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if d.maxAtt == 0 {
		d.maxAtt = DefaultMaxAttempts
	}
	var errs []error
	if d.store == nil {
		errs = append(errs, errors.New("a Store is required"))
	}
	if d.sender == nil {
		errs = append(errs, errors.New("a Sender is required"))
	}
	if d.poll < 0 || d.timeout < 0 || d.minBack < 0 || d.maxBack < d.minBack {
		errs = append(errs, errors.New("intervals must be positive, and MaxBackoff at least MinBackoff"))
	}
	if d.lease <= d.timeout {
		errs = append(errs, fmt.Errorf("the lease (%s) must exceed the send timeout (%s)", d.lease, d.timeout))
	}
	if d.maxAtt < 1 {
		errs = append(errs, errors.New("MaxAttempts must be at least 1"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("mail: dispatcher: %w", err)
	}
	return d, nil
}

// Enqueue stores m in the outbox and wakes the dispatcher. Once it returns nil the message
// survives a restart and will be delivered, retried, or marked failed; it is never dropped.
func (d *Dispatcher) Enqueue(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("mail: enqueue: %w", err)
	}
	om := &gatehouse.OutboxMail{To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML}
	if err := d.store.EnqueueMail(ctx, om, d.now()); err != nil {
		return fmt.Errorf("mail: enqueue %q: %w", m.Subject, err)
	}
	d.log.DebugContext(ctx, "mail queued", "mail_id", om.ID, "subject", m.Subject)
	d.Wake()
	return nil
}

// EnqueueTemplate renders content for to with the dispatcher's Brand (see Render) and enqueues
// the message.
func (d *Dispatcher) EnqueueTemplate(ctx context.Context, to string, content Content) error {
	m, err := Render(d.brand, to, content)
	if err != nil {
		return err
	}
	return d.Enqueue(ctx, m)
}

// Wake makes Run look for due messages now rather than at its next poll.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// Run delivers due messages until ctx ends, then returns nil. A delivery in progress when ctx
// ends is finished (within SendTimeout) and recorded first, so a stop does not cause a second
// delivery of a message the server already accepted. Database errors are logged and retried at
// the next poll. Only one Run per Dispatcher may be active.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("mail: dispatcher is already running")
	}
	defer d.running.Store(false)
	d.log.InfoContext(ctx, "mail dispatcher started", "poll_interval", d.poll.String(), "max_attempts", d.maxAtt)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			d.log.InfoContext(context.WithoutCancel(ctx), "mail dispatcher stopped")
			return nil
		case <-d.wake:
		case <-timer.C:
		}
		if _, err := d.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			d.log.WarnContext(ctx, "mail outbox unavailable, trying again later", "retry_in", d.poll.String(), "error", err)
		}
		timer.Reset(d.poll)
	}
}

// DeliverDue delivers every message due now, one at a time, and returns how many were sent. It
// is what Run does on each wake-up; tests call it to deliver synchronously.
func (d *Dispatcher) DeliverDue(ctx context.Context) (sent int, err error) {
	for ctx.Err() == nil {
		ms, err := d.store.ClaimDueMail(ctx, d.now(), d.lease, 1)
		if err != nil {
			return sent, err
		}
		if len(ms) == 0 {
			return sent, nil
		}
		for _, m := range ms {
			if d.deliverTraced(ctx, m) {
				sent++
			}
		}
	}
	return sent, nil
}

// deliver sends one claimed message and records the outcome. It outlives ctx's cancellation
// (bounded by SendTimeout) so that a stop never leaves a sent message unrecorded.
func (d *Dispatcher) deliver(ctx context.Context, m gatehouse.OutboxMail) (sent bool) {
	bg := context.WithoutCancel(ctx)
	if m.LockedUntil == nil {
		d.log.ErrorContext(bg, "mail claimed without a lease; skipped", "mail_id", m.ID)
		return false
	}
	lease := *m.LockedUntil
	sctx, cancel := context.WithTimeout(bg, d.timeout)
	sendErr := d.sender.Send(sctx, Message{To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
	cancel()

	rctx, rcancel := context.WithTimeout(bg, 30*time.Second)
	defer rcancel()
	attrs := []any{"mail_id", m.ID, "to", m.To, "subject", m.Subject, "attempt", m.Attempts}
	var recErr error
	switch {
	case sendErr == nil:
		recErr = d.store.MarkMailSent(rctx, m.ID, lease, d.now())
		d.log.InfoContext(bg, "mail sent", attrs...)
	case m.Attempts >= d.maxAtt:
		recErr = d.store.MarkMailFailed(rctx, m.ID, lease, sendErr.Error())
		d.log.ErrorContext(bg, "mail undeliverable, giving up; it stays in the outbox as failed",
			append(attrs, "max_attempts", d.maxAtt, "reason", sendErr.Error())...)
	default:
		delay := Backoff(m.Attempts, d.minBack, d.maxBack)
		recErr = d.store.MarkMailRetry(rctx, m.ID, lease, d.now().Add(delay), sendErr.Error())
		d.log.WarnContext(bg, "mail delivery failed, will retry",
			append(attrs, "retry_in", delay.String(), "reason", sendErr.Error())...)
	}
	if recErr != nil {
		level := slog.LevelError
		if gatehouse.ErrorCode(recErr) == gatehouse.EConflict {
			level = slog.LevelWarn // the lease ran out: another dispatcher owns the message now
		}
		d.log.Log(bg, level, "mail outcome not recorded", append(attrs, "error", recErr)...)
	}
	return sendErr == nil
}

// Backoff is the wait after the attempt-th failed attempt (1-based): min doubled for each
// earlier failure, capped at max.
func Backoff(attempt int, minWait, maxWait time.Duration) time.Duration {
	d := minWait
	for i := 1; i < attempt && d < maxWait; i++ {
		d *= 2
	}
	return min(d, maxWait)
}
