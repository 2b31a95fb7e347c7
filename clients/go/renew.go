package holdfast

import (
	"context"
	"time"
)

// A client outlives its sessions (docs/adr/0004-clients-outlive-their-session.md).
// When its session is lost (no heartbeat acknowledged for a TTL,
// SESSION_EXPIRED, ended by an operator), every lease of it is lost (its
// OnLost callbacks told) and never taken again by the library, and the client
// opens a new session, with a new id, with backoff (from 100 ms, doubling, at
// most 2 s, full jitter) until one opens or the client is closed. Between
// the two, a call that needs a session waits for the next within its own
// timeout (its context and the request timeout), then fails with an
// UNAVAILABLE *Error: "no session: the last was lost (CAUSE); opening a new
// one". What was in flight fails as before. Reads and watches need no
// session and go on. Config.RenewSessions opts out.

// session is one session of the client's life: its id, its ledger of
// request ids, the context of its background work (heartbeats, event stream,
// renewals, withdrawals), and its leases.
type session struct {
	id       string
	ledger   *ledger
	ctx      context.Context
	cancel   context.CancelFunc
	leases   map[leaseKey]*Lease
	lostSeen map[leaseKey]LossReason // losses reported before their grant's answer
	err      *Error                  // why it was lost, once it was
}

// SessionListener is told of the client's sessions (Client.OnSession):
// Lost(oldID, cause) when the session is lost (cause: an *Error of code
// SESSION_EXPIRED naming why), then Reestablished(newID) once the next is
// open, in that order, from goroutines of the client's (Config.Go), one after
// the other.
type SessionListener interface {
	Lost(oldID string, cause error)
	Reestablished(newID string)
}

// SessionFuncs is a SessionListener made of two functions; either may be nil.
type SessionFuncs struct {
	OnLost          func(oldID string, cause error)
	OnReestablished func(newID string)
}

// Lost calls OnLost, if set.
func (f SessionFuncs) Lost(oldID string, cause error) {
	if f.OnLost != nil {
		f.OnLost(oldID, cause)
	}
}

// Reestablished calls OnReestablished, if set.
func (f SessionFuncs) Reestablished(newID string) {
	if f.OnReestablished != nil {
		f.OnReestablished(newID)
	}
}

// Bool returns a pointer to b: Config{RenewSessions: holdfast.Bool(false)}.
func Bool(b bool) *bool { return &b }

// OnSession adds a session listener.
func (c *Client) OnSession(l SessionListener) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.listeners = append(c.listeners, l)
}

// Renewing reports whether the session is lost and the next not open yet.
func (c *Client) Renewing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateOpen && c.cur == nil
}

// renewBackoff is the pause before the next try to open a session: from
// 100 ms, doubling, at most 2 s, each drawn at random in [0, it) (full
// jitter). Both bounds are clients/vectors/limits.json's, every client's: a
// service that comes back is found within the cap (with 10 s, a registrant
// missed the conformance suite's "back within 5 s" after a 30 s outage).
type renewBackoff struct {
	next time.Duration
	intn func(n int64) int64
}

const (
	renewFirst = 100 * time.Millisecond
	renewCap   = 2 * time.Second
)

// rejoinFirst and rejoinCap bound the pauses between the tries of a group
// member's join under a new session (rejoinMember): from 100 ms, doubling, at
// most 1 s, without jitter, as clients/vectors/limits.json says for every
// client. No jitter: each client comes to its rejoins after opening its
// session with full jitter, which spreads a fleet's already.
const (
	rejoinFirst = 100 * time.Millisecond
	rejoinCap   = time.Second
)

// nextRejoinPause is the pause after d: twice d, at most rejoinCap.
func nextRejoinPause(d time.Duration) time.Duration {
	d *= 2
	if d > rejoinCap {
		d = rejoinCap
	}
	return d
}

func newRenewBackoff(intn func(n int64) int64) *renewBackoff {
	if intn == nil {
		intn = jitterSource.int63n
	}
	return &renewBackoff{next: renewFirst, intn: intn}
}

func (b *renewBackoff) delay() time.Duration {
	d := b.next
	b.next *= 2
	if b.next > renewCap {
		b.next = renewCap
	}
	return time.Duration(b.intn(int64(d)))
}

// begin makes the session id (opened when sentAt was sent) the current one
// and starts its heartbeats and its event stream; renewed: the listeners are
// told Reestablished first (so before any loss of it). False if the client
// closed meanwhile.
func (c *Client) begin(id string, sentAt time.Time, renewed bool) bool {
	s := &session{
		id:       id,
		ledger:   newLedger(),
		leases:   make(map[leaseKey]*Lease),
		lostSeen: make(map[leaseKey]LossReason),
	}
	s.ctx, s.cancel = context.WithCancel(c.life)
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		s.cancel()
		return false
	}
	c.cur = s
	c.lastID = id
	c.ownIDs = append(c.ownIDs, id)
	if len(c.ownIDs) > 64 {
		c.ownIDs = c.ownIDs[len(c.ownIDs)-64:]
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.wg.Add(2)
	c.mu.Unlock()
	if renewed {
		c.tell(func(l SessionListener) { l.Reestablished(id) })
	}
	c.tr.spawn(func() { c.heartbeatLoop(s, sentAt) })
	c.tr.spawn(func() { c.eventLoop(s) })
	return true
}

// session returns the session a call that needs one uses: the current one;
// between two, the next, waited for until ctx ends or deadline passes (then
// UNAVAILABLE naming the cause). An expired (opted out) or closed client's
// error otherwise.
func (c *Client) session(ctx context.Context, deadline time.Time) (*session, error) {
	for {
		c.mu.Lock()
		if err := c.stateErrLocked(); err != nil {
			c.mu.Unlock()
			return nil, err
		}
		if s := c.cur; s != nil {
			c.mu.Unlock()
			return s, nil
		}
		changed, cause := c.changed, c.lostCause
		c.mu.Unlock()
		left := deadline.Sub(c.now())
		if left <= 0 {
			return nil, unavailable("no session: the last was lost (%s); opening a new one", cause)
		}
		tm := c.tr.clock.NewTimer(left)
		select {
		case <-changed:
		case <-tm.C():
		case <-ctx.Done():
			tm.Stop()
			return nil, ctx.Err()
		}
		tm.Stop()
	}
}

// own reports whether id is one of this client's sessions (the current one
// or one it lost).
func (c *Client) own(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range c.ownIDs {
		if o == id {
			return true
		}
	}
	return false
}

// renewLoop opens the next session after s was lost: tells the listeners
// Lost, tries with backoff until one opens or the client is closed, then
// tells them Reestablished and starts joining the group members again
// (rejoin, which goes on after it returns).
func (c *Client) renewLoop(s *session) {
	defer c.wg.Done()
	c.mu.Lock()
	cause := c.lostCause
	c.mu.Unlock()
	c.tell(func(l SessionListener) { l.Lost(s.id, s.err) })
	b := newRenewBackoff(c.renewIntn)
	for c.life.Err() == nil {
		id, sentAt, err := c.openSession(c.life, c.now().Add(c.reqTimeout))
		if err != nil {
			if c.life.Err() != nil {
				return
			}
			c.mu.Lock()
			c.lostCause = cause + "; the last try to open another: " + trimPrefix(err)
			c.mu.Unlock()
			c.logf("holdfast: opening a session after %s was lost: %v", s.id, err)
			if !c.sleepUntil(c.life, c.now().Add(b.delay())) {
				return
			}
			continue
		}
		if !c.begin(id, sentAt, true) {
			return
		}
		c.logf("holdfast: session %s opened after %s was lost", id, s.id)
		c.rejoin()
		return
	}
}

// tell calls f with every session listener, in a goroutine of its own
// (Config.Go) that runs after the one of the previous tell has returned: the
// listeners hear Lost and Reestablished in that order, and one may call
// Close.
func (c *Client) tell(f func(SessionListener)) {
	c.mu.Lock()
	listeners := append([]SessionListener(nil), c.listeners...)
	prev := c.told
	done := make(chan struct{})
	c.told = done
	c.mu.Unlock()
	c.tr.spawn(func() {
		defer close(done)
		if prev != nil {
			<-prev
		}
		for _, l := range listeners {
			f(l)
		}
	})
}

// joinedMember is a group member this client joined and has not left.
type joinedMember struct {
	prefix, member string
}

// rejoin joins every member this client had joined again, with its last
// value, under the new session, by the one join rule: a name another live
// session holds is not taken over; the group's OnRejoinFailed callbacks are
// told instead. Each member is joined on a goroutine of its own (Config.Go),
// so that one whose join fails, or waits out its timeout, holds up none of
// the others. This starts a new round: the tries of an older one stop.
func (c *Client) rejoin() {
	c.mu.Lock()
	c.rejoinRound++
	round := c.rejoinRound
	members := make([]joinedMember, 0, len(c.joined))
	for m := range c.joined {
		members = append(members, m)
	}
	c.mu.Unlock()
	for _, m := range members {
		if !c.track() {
			return // closed: Close may be waiting for the others already
		}
		m := m
		c.tr.spawn(func() {
			defer c.wg.Done()
			c.rejoinMember(m, round)
		})
	}
}

// rejoinMember joins m under the client's session, and again after a pause
// (rejoinFirst, doubling up to rejoinCap) each time the join fails for any
// reason but another session holding the name: the service unreachable
// again, this session lost too, a refusal that may pass. Tried once, a
// service gone again right after the new session opened (a leader election
// right after an outage) kept the member out for the whole session. It stops
// once the join is written, another session holds the name, the member left,
// the client closed, or a newer session began its own round (which joins it
// itself). Each try reads the member's value afresh: a Join since set it.
func (c *Client) rejoinMember(m joinedMember, round uint64) {
	g := c.Keys().Group(m.prefix)
	pause := rejoinFirst
	for {
		c.mu.Lock()
		value, joined := c.joined[m]
		current := c.rejoinRound == round
		c.mu.Unlock()
		if !joined || !current || c.life.Err() != nil {
			return
		}
		ctx, cancel := withTimeout(c.life, c.tr.clock, c.tr.spawn, 3*c.reqTimeout)
		_, err := g.Join(ctx, m.member, value)
		cancel()
		if err == nil || c.life.Err() != nil {
			return
		}
		c.logf("holdfast: joining %s again: %v", m.prefix+m.member, err)
		if e, ok := err.(*Error); ok && e.Code == CodeConflict {
			c.mu.Lock()
			delete(c.joined, m)
			var callbacks []func(member, holder string)
			callbacks = append(callbacks, c.rejoinFailed[m.prefix]...)
			c.mu.Unlock()
			for _, f := range callbacks {
				f(m.member, e.Holder)
			}
			return
		}
		if !c.sleepUntil(c.life, c.now().Add(pause)) {
			return
		}
		pause = nextRejoinPause(pause)
	}
}
