package holdfast

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// LossReason says why a lease was lost.
type LossReason string

// The reasons a lease is lost.
const (
	// LossRevoked: an operator revoked the lock.
	LossRevoked LossReason = "revoked"
	// LossLeaseTimeout: the lease timeout ran out without a renewal (or a
	// renewal was answered NOT_OWNER, or none was acknowledged in time).
	LossLeaseTimeout LossReason = "leaseTimeout"
	// LossSessionExpired: the session expired (heartbeats stopped, or the
	// server said so); every lease of the session is lost at once.
	LossSessionExpired LossReason = "sessionExpired"
	// LossUnknown: the lease was found missing from the session's state
	// after a gap in the event stream.
	LossUnknown LossReason = "unknown"
)

func parseReason(s string) LossReason {
	switch r := LossReason(s); r {
	case LossRevoked, LossLeaseTimeout, LossSessionExpired:
		return r
	}
	return LossUnknown
}

type leaseState int

const (
	leaseHeld leaseState = iota
	leaseLost
	leaseReleased
)

// leaseKey identifies a grant: a lock name and its fencing token.
type leaseKey struct {
	name  string
	token int64
}

// Lease is one grant of a lock: a name and a fencing token. It is valid from
// the grant until it is released, lost, or its client is closed.
//
// Guaranteed: a loss the cluster reports (revoke, lease timeout, session
// expiry, or a grant found missing after a gap in the event stream) makes
// Valid false, closes Lost() and calls the OnLost callback exactly once,
// normally within a second of the loss. A session whose heartbeats go
// unacknowledged for a whole TTL is treated as expired, locally, even when no
// member can be reached to say so.
//
// Not guaranteed: that Valid is true at the very moment the caller acts on
// it. Protect the resource with the fencing token (pass FencingToken to the
// resource, or fence a register write with FencedBy) for exclusion that does
// not rely on timing.
type Lease struct {
	c            *Client
	s            *session // the session it was granted to
	name         string
	token        int64
	mode         string
	leaseTimeout time.Duration
	onLost       func(*Lease, LossReason)
	receivedAt   time.Time // when the grant's answer arrived

	lost chan struct{}

	mu     sync.Mutex
	state  leaseState
	reason LossReason
	stop   chan struct{} // closed when renewals must stop
}

func newLease(c *Client, s *session, name string, token int64, o *lockOptions, receivedAt time.Time) *Lease {
	return &Lease{
		c:            c,
		s:            s,
		name:         name,
		token:        token,
		mode:         o.mode,
		leaseTimeout: o.lease,
		onLost:       o.onLost,
		receivedAt:   receivedAt,
		lost:         make(chan struct{}),
		stop:         make(chan struct{}),
	}
}

// Name is the lock's name.
func (l *Lease) Name() string { return l.name }

// FencingToken is the grant's fencing token: a 64-bit integer, larger than
// every token granted before it for the same lock.
func (l *Lease) FencingToken() int64 { return l.token }

// Valid reports whether the lease is still held: false once it was lost or
// released (or its client closed).
func (l *Lease) Valid() bool {
	state, _ := l.status()
	return state == leaseHeld
}

// status reads the lease's state and loss reason together, under its lock.
func (l *Lease) status() (leaseState, LossReason) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state, l.reason
}

// Lost returns a channel that is closed when the lease is lost (not when it
// is released).
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Reason is why the lease was lost; "" while it was not.
func (l *Lease) Reason() LossReason {
	_, reason := l.status()
	return reason
}

// Err is nil while the lease is held or after it was released, and an
// *Error of code LOCK_LOST (errors.Is(err, ErrLockLost)) naming the reason
// once it was lost.
func (l *Lease) Err() error {
	state, reason := l.status()
	if state != leaseLost {
		return nil
	}
	return &Error{
		Code:    CodeLockLost,
		Message: fmt.Sprintf("%s (token %d) was lost: %s", l.name, l.token, reason),
		Token:   l.token,
		Reason:  reason,
	}
}

// String describes the lease for logs.
func (l *Lease) String() string {
	return fmt.Sprintf("lease %s token %d", l.name, l.token)
}

// Release gives the grant back. It is idempotent: releasing a lease that was
// already released, lost, or whose client is closed returns nil, and so does
// a release answered NOT_OWNER (the grant was lost meanwhile). It uses the
// client's request timeout; see ReleaseContext.
func (l *Lease) Release() error {
	return l.ReleaseContext(context.Background())
}

// ReleaseContext is Release with a context. If ctx ends first, it returns
// ctx.Err() and the release goes on in the background until its answer is
// known (the lease is no longer Valid either way).
func (l *Lease) ReleaseContext(ctx context.Context) error {
	l.mu.Lock()
	if l.state != leaseHeld {
		l.mu.Unlock()
		return nil
	}
	l.state = leaseReleased
	close(l.stop)
	l.mu.Unlock()
	l.c.forget(l)
	if l.s.ctx.Err() != nil {
		return nil // its session was lost (and it with it), or the client closed
	}
	err := l.c.release(ctx, l.s, l.name, l.token)
	if err != nil && (isCode(err, CodeNotOwner) || isCode(err, CodeSessionExpired)) {
		return nil
	}
	return err
}

// markLost marks the lease lost (once) and calls its callback in a goroutine.
func (l *Lease) markLost(reason LossReason) bool {
	l.mu.Lock()
	if l.state != leaseHeld {
		l.mu.Unlock()
		return false
	}
	l.state = leaseLost
	l.reason = reason
	close(l.stop)
	close(l.lost)
	cb := l.onLost
	l.mu.Unlock()
	l.c.forget(l)
	l.c.logf("holdfast: %s lost: %s", l, reason)
	if cb != nil {
		l.c.tr.spawn(func() { cb(l, reason) })
	}
	return true
}

// markReleased ends the lease without a release call (its client closed).
func (l *Lease) markReleased() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == leaseHeld {
		l.state = leaseReleased
		close(l.stop)
	}
}

// renewLoop renews a lease taken with a lease timeout every leaseTimeout/3
// until it ends. A renewal answered NOT_OWNER, or no renewal acknowledged for
// a whole lease timeout counted from the sending of the last acknowledged
// one, loses the lease (LossLeaseTimeout).
func (l *Lease) renewLoop(grantSentAt time.Time) {
	defer l.c.wg.Done()
	lt := l.leaseTimeout
	// The grant's timer started somewhere between the sending and the
	// answer; when the answer was slow (a queued wait), assume it started
	// at most lt/3 before the answer and renew at once.
	lastAck := grantSentAt
	if l.receivedAt.Sub(grantSentAt) > lt/3 {
		lastAck = l.receivedAt.Add(-lt / 3)
	}
	next := lastAck.Add(lt / 3)
	backoff := backoffStart
	for {
		if !l.waitUntil(next) {
			return
		}
		deadline := lastAck.Add(lt)
		attempt := l.c.reqTimeout
		if attempt > lt/3 {
			attempt = lt / 3
		}
		a, err := l.c.numberedCall(l.s.ctx, l.s, "/api/v1/renew", map[string]any{"name": l.name, "token": l.token}, attempt, deadline)
		select {
		case <-l.stop:
			return
		default:
		}
		if err != nil {
			if l.s.ctx.Err() != nil {
				return
			}
			// No renewal acknowledged for a whole lease timeout.
			l.c.logf("holdfast: renewing %s: %v", l, err)
			l.markLost(LossLeaseTimeout)
			return
		}
		switch {
		case a.status == 200:
			lastAck = a.sentAt
			next = lastAck.Add(lt / 3)
			backoff = backoffStart
		case a.status == 410:
			e, _ := parseError(a.status, a.body)
			l.c.expire(l.s, e.Message)
			return
		default:
			e, _ := parseError(a.status, a.body)
			if e.Code == CodeNotOwner || e.Code == CodeLockLost {
				l.markLost(LossLeaseTimeout)
				return
			}
			l.c.logf("holdfast: renewing %s: %v", l, e)
			if l.c.now().After(deadline) {
				l.markLost(LossLeaseTimeout)
				return
			}
			next = l.c.now().Add(jitter(backoff))
			backoff = grow(backoff)
		}
	}
}

// waitUntil sleeps until t of the client's clock; false if the lease ended
// or the client stopped.
func (l *Lease) waitUntil(t time.Time) bool {
	d := t.Sub(l.c.now())
	if d < 0 {
		d = 0
	}
	tm := l.c.tr.clock.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C():
		return true
	case <-l.stop:
		return false
	case <-l.s.ctx.Done():
		return false
	}
}

// Leases is the outcome of LockAll: one lease per name, all granted together.
type Leases []*Lease

// Tokens maps each name to its fencing token.
func (ls Leases) Tokens() map[string]int64 {
	m := make(map[string]int64, len(ls))
	for _, l := range ls {
		m[l.name] = l.token
	}
	return m
}

// Valid reports whether every lease is still held.
func (ls Leases) Valid() bool {
	for _, l := range ls {
		if !l.Valid() {
			return false
		}
	}
	return len(ls) > 0
}

// Release releases every lease; it returns the first error.
func (ls Leases) Release() error {
	var first error
	for _, l := range ls {
		if err := l.Release(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Get returns the lease of name, or nil.
func (ls Leases) Get(name string) *Lease {
	for _, l := range ls {
		if l.name == name {
			return l
		}
	}
	return nil
}

// grantAnswer is the JSON of a granted acquire or acquire-all.
type grantAnswer struct {
	Name    string `json:"name"`
	Granted *bool  `json:"granted"`
	Token   int64  `json:"token"`
	Locks   []struct {
		Name  string `json:"name"`
		Token int64  `json:"token"`
	} `json:"locks"`
}

func decodeGrant(body []byte) (grantAnswer, error) {
	var g grantAnswer
	if err := json.Unmarshal(body, &g); err != nil {
		return g, unavailable("the answer is not JSON: %v", err)
	}
	return g, nil
}

// grantIn reads an acquire's answer: the grant, or a timeout with the
// message notGranted.
func grantIn(a answer, notGranted string) (grantAnswer, error) {
	g, err := decodeGrant(a.body)
	if err != nil {
		return g, err
	}
	if g.Granted != nil && !*g.Granted {
		return g, &Error{Code: CodeTimeout, Status: a.status, Message: notGranted}
	}
	return g, nil
}
