package holdfast

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"math/big"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config configures a Client. Only Members is required.
type Config struct {
	// Members are the HTTP base URLs of every member, e.g.
	// "http://10.0.0.1:4655". A comma-separated list in one string works too.
	Members []string
	// SessionTTL is the session's time to live: it expires when no heartbeat
	// is acknowledged for this long. Default 10 s; the server allows 1 s to 10 min.
	SessionTTL time.Duration
	// ClientName is shown to operators. Default "holdfast-go@HOSTNAME".
	ClientName string
	// RequestTimeout bounds each HTTP attempt (an acquire's attempt gets its
	// wait on top). Default 5 s. A call other than an acquire retries for
	// about 3× this long before it returns ErrUnavailable.
	RequestTimeout time.Duration
	// Token, if set, is sent as "Authorization: Bearer TOKEN".
	Token string
	// LockDelay, if set, keeps the session's locks ungrantable this long
	// after it expires (0 to 60 s).
	LockDelay time.Duration
	// Logf, if set, receives the library's diagnostics (retries, losses).
	Logf func(format string, args ...any)
	// Clock, if set, is the one clock every deadline, pause, heartbeat,
	// renewal and timeout of the client reads and waits on (tests: one they
	// move themselves). Default: SystemClock().
	Clock Clock
	// Calls says which member the client sends to, its home: "home" (or "",
	// the default) picks one at random among Members, so that a fleet of
	// clients spreads over them; "first" takes the first one listed (a member
	// near the client). Every member serves a session (a follower relays
	// heartbeats and forwards writes and waits to the leader); the home moves
	// to another member only when it fails the client, picked the same way
	// ("first": the next one listed after the one that failed). Any
	// other value is an INVALID_ARGUMENT error from New.
	Calls string
	// Rand, if set, picks the homes when Calls is "home", the first and each
	// one after a home failed: Rand(n) returns an index in [0, n) among n
	// candidates, as math/rand's Intn does (tests: a fixed one). The client
	// calls it from one goroutine at a time. Default: crypto/rand (math/rand's
	// global source is the same in every process before Go 1.20, which would
	// put a fleet on one member).
	Rand func(n int) int
	// Go, if set, starts each piece of the client's background work: its
	// heartbeats, its event stream, lease renewals, watches, observations,
	// lookups of the members' ids, an acquire's call, the sending on of a
	// change whose caller stopped waiting, the withdrawal of a wait whose
	// answer was lost, OnLost callbacks, the opening of the next session after
	// one was lost and its session listeners, each group member's joins
	// again under it, each one call Go(f). Go must run
	// f concurrently (in a goroutine of its own or of a pool's) and return
	// without waiting for it. Default: go f().
	Go func(f func())
	// RenewSessions says whether the client opens a new session when its
	// session is lost (docs/adr/0004-clients-outlive-their-session.md): nil
	// (the default) or true renews; Bool(false) opts out, and the client then
	// ends with its session (Err returns ErrSessionExpired), as the command
	// line's long-running commands need.
	RenewSessions *bool
}

const (
	defaultTTL            = 10 * time.Second
	defaultRequestTimeout = 5 * time.Second
	// acquireSlack is added to an acquire's wait and request timeout to
	// make its deadline: the time a retry may still take.
	acquireSlack = 3 * time.Second
	// eventWait is the long poll's waitMillis.
	eventWait = 20 * time.Second
)

type clientState int

const (
	stateOpen    clientState = iota // open, or between a lost session and the next
	stateExpired                    // ended with its session (opted out of renewing)
	stateClosed
)

// Client is a session with a Holdfast cluster, and the next one when it is
// lost (see renew.go: a client outlives its sessions, unless
// Config.RenewSessions opts out). It keeps the session alive, renews leases
// taken with a lease timeout, and listens for losses, each in a background
// goroutine that stops on Close (or when its session is lost). A Client is
// safe for concurrent use.
type Client struct {
	tr         *transport
	ttl        time.Duration
	reqTimeout time.Duration
	logFn      func(string, ...any)
	clientName string
	lockDelay  time.Duration
	renew      bool
	renewIntn  func(n int64) int64 // tests: the renewal's jitter

	life   context.Context // the client's life: ends on Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the background goroutines

	mu           sync.Mutex
	state        clientState
	expiredErr   *Error
	cur          *session      // nil between a lost session and the next
	lastID       string        // the current session's id, or the lost one's
	ownIDs       []string      // this client's sessions, the newest last
	lostCause    string        // why the last session was lost
	changed      chan struct{} // closed when cur is set or the client ends
	listeners    []SessionListener
	told         chan struct{} // closed once the listeners were last told
	joined       map[joinedMember][]byte
	rejoinFailed map[string][]func(member, holder string)
	rejoinRound  uint64 // rejoin's rounds, one per new session: an older round's tries stop

	closeOnce sync.Once
	closeErr  error
}

// New opens a session at the client's home member (see Config.Calls) and
// starts its heartbeats and its event stream. ctx bounds the opening only (retried at other members for about
// 3× the request timeout); the session lives until Close or expiry.
func New(ctx context.Context, cfg Config) (*Client, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	id, sentAt, err := c.openSession(ctx, c.now().Add(3*c.reqTimeout))
	if err != nil {
		c.cancel()
		c.tr.close()
		return nil, err
	}
	c.begin(id, sentAt, false)
	return c, nil
}

// newClient checks the configuration and builds a client without a session.
func newClient(cfg Config) (*Client, error) {
	members, err := normalizeMembers(cfg.Members)
	if err != nil {
		return nil, err
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = defaultTTL
	}
	if cfg.SessionTTL < time.Second {
		return nil, invalidArgument("the session TTL must be at least 1s, not %v", cfg.SessionTTL)
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = defaultRequestTimeout
	}
	if cfg.RequestTimeout < 0 {
		return nil, invalidArgument("the request timeout is negative (%v)", cfg.RequestTimeout)
	}
	if cfg.LockDelay < 0 {
		return nil, invalidArgument("the lock delay is negative (%v)", cfg.LockDelay)
	}
	pick, err := homePicker(cfg.Calls, cfg.Rand)
	if err != nil {
		return nil, err
	}
	tr := newTransport(members, pickIn(pick, len(members)), pick, cfg.Token, cfg.Logf)
	if cfg.Clock != nil {
		tr.clock = cfg.Clock
	}
	if cfg.Go != nil {
		tr.spawn = cfg.Go
	}
	c := &Client{
		tr:           tr,
		ttl:          cfg.SessionTTL,
		reqTimeout:   cfg.RequestTimeout,
		logFn:        cfg.Logf,
		clientName:   cfg.ClientName,
		lockDelay:    cfg.LockDelay,
		renew:        cfg.RenewSessions == nil || *cfg.RenewSessions,
		changed:      make(chan struct{}),
		joined:       make(map[joinedMember][]byte),
		rejoinFailed: make(map[string][]func(string, string)),
	}
	if c.clientName == "" {
		c.clientName = defaultClientName()
	}
	c.life, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// pickHome is the index of the first home among n members: the first one
// for calls "first", one picked at random (with pick, crypto/rand when
// nil) for "home" or "".
func pickHome(calls string, pick func(int) int, n int) (int, error) {
	p, err := homePicker(calls, pick)
	if err != nil {
		return 0, err
	}
	return pickIn(p, n), nil
}

// homePicker picks homes for calls, an index among n candidates: the first
// one (pickFirst) for "first", one at random (with pick, crypto/rand when
// nil) for "home" or "". It picks the first home among the members, and
// each one after a home failed among the others (transport.rotate).
func homePicker(calls string, pick func(int) int) (func(int) int, error) {
	switch calls {
	case "first":
		return pickFirst, nil
	case "", "home":
		if pick == nil {
			pick = cryptoIntn
		}
		return pick, nil
	}
	return nil, invalidArgument("calls is \"home\" or \"first\", not %q", calls)
}

// pickFirst picks the first of n candidates.
func pickFirst(int) int { return 0 }

// pickIn is pick(n), kept in [0, n).
func pickIn(pick func(int) int, n int) int {
	if i := pick(n); i >= 0 && i < n {
		return i
	}
	return 0
}

// cryptoIntn is a number in [0, n) from crypto/rand (0 if it fails).
func cryptoIntn(n int) int {
	i, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0
	}
	return int(i.Int64())
}

// SessionID is the current session's id. It changes each time a lost
// session is followed by a new one (the lost one's until the next is open).
func (c *Client) SessionID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastID
}

// Err is nil while the client is open (between a lost session and the next
// too), and the reason otherwise (ErrSessionExpired after Close, or after its
// session was lost when Config.RenewSessions opted out).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stateErrLocked()
}

// Close stops the background goroutines, closes the session (DELETE
// /api/v1/sessions/{id}: the cluster releases every grant at once) and marks
// every lease released. It is idempotent; it returns the close's error, if
// the close could not be confirmed (the session then expires after its TTL).
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		s := c.cur
		if c.state != stateOpen {
			s = nil
		}
		c.state = stateClosed
		c.cur = nil
		close(c.changed)
		c.changed = make(chan struct{})
		var leases []*Lease
		if s != nil {
			leases = takeLeases(s)
		}
		c.mu.Unlock()
		c.cancel()
		c.wg.Wait()
		for _, l := range leases {
			l.markReleased()
		}
		if s != nil {
			c.closeErr = c.closeSession(s)
		}
		c.tr.close()
	})
	return c.closeErr
}

// closeSession sends DELETE /api/v1/sessions/{id}, numbered like every change.
func (c *Client) closeSession(s *session) error {
	id := s.ledger.begin()
	a, err := c.tr.call(context.Background(), request{
		method: "DELETE",
		path:   "/api/v1/sessions/" + url.PathEscape(s.id),
		body: func() any {
			return map[string]any{"requestId": id, "ackedBelow": s.ledger.ackedBelow()}
		},
		attemptTimeout: c.reqTimeout,
		deadline:       c.now().Add(3 * c.reqTimeout),
		member:         -1,
	})
	if err != nil {
		return err
	}
	s.ledger.end(id)
	if a.status >= 300 && a.status != 410 && a.status != 404 {
		e, _ := parseError(a.status, a.body)
		return e
	}
	return nil
}

// Lock acquires name: exclusive unless Shared or Semaphore says otherwise,
// trying once unless Wait says how long it may queue. Errors:
// ErrLockTimeout (not granted within the wait), ErrDeadlock, ErrLockLost
// (granted and lost before the answer), ErrInvalidArgument,
// ErrSessionExpired, ErrUnavailable (no answer in time; the wait is then
// withdrawn in the background), ErrPermissionDenied, ErrQuotaExceeded.
//
// Cancelling ctx aborts the wait: the library withdraws it (POST
// /api/v1/cancel), releases a grant the cancel reports as already made, and
// returns an error wrapping ctx.Err() once the withdrawal is answered.
func (c *Client) Lock(ctx context.Context, name string, opts ...LockOption) (*Lease, error) {
	o := buildOptions(opts)
	if err := o.validate(name); err != nil {
		return nil, err
	}
	fields := map[string]any{
		"name":        name,
		"mode":        o.mode,
		"owner":       o.owner,
		"waitMillis":  millis(o.wait),
		"leaseMillis": millis(o.lease),
	}
	if o.mode == "permits" {
		fields["permits"] = o.permits
		fields["maxPermits"] = o.maxPermits
	}
	a, s, err := c.acquire(ctx, "/api/v1/acquire", fields, o.wait, []string{name})
	if err != nil {
		return nil, err
	}
	g, err := grantIn(a, name+" was not granted")
	if err != nil {
		return nil, err
	}
	return c.adopt(s, name, g.Token, o, a), nil
}

// Semaphore acquires permits permits of the semaphore name of maxPermits:
// Lock with the Semaphore option.
func (c *Client) Semaphore(ctx context.Context, name string, permits, maxPermits int, opts ...LockOption) (*Lease, error) {
	return c.Lock(ctx, name, append(append([]LockOption(nil), opts...), Semaphore(permits, maxPermits))...)
}

// LockAll acquires every name, all or none, with one fencing token per name;
// the leases come in byte order of the names. The options and errors are
// Lock's (Semaphore does not apply).
func (c *Client) LockAll(ctx context.Context, names []string, opts ...LockOption) (Leases, error) {
	o := buildOptions(opts)
	if err := validateNames(names); err != nil {
		return nil, err
	}
	if err := o.validate(names...); err != nil {
		return nil, err
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	fields := map[string]any{
		"names":       sorted,
		"mode":        o.mode,
		"owner":       o.owner,
		"waitMillis":  millis(o.wait),
		"leaseMillis": millis(o.lease),
	}
	a, s, err := c.acquire(ctx, "/api/v1/acquire-all", fields, o.wait, sorted)
	if err != nil {
		return nil, err
	}
	g, err := grantIn(a, "the locks were not granted")
	if err != nil {
		return nil, err
	}
	out := make(Leases, 0, len(g.Locks))
	for _, lk := range g.Locks {
		out = append(out, c.adopt(s, lk.Name, lk.Token, o, a))
	}
	return out, nil
}

// adopt makes the lease of a grant of session s, registers it (a loss
// already reported for it, or the loss of s, marks it lost at once) and
// starts its renewals.
func (c *Client) adopt(s *session, name string, token int64, o *lockOptions, a answer) *Lease {
	l := newLease(c, s, name, token, o, c.now())
	key := leaseKey{name, token}
	c.mu.Lock()
	if st := c.state; st != stateOpen || c.cur != s {
		c.mu.Unlock()
		if st == stateClosed {
			l.markReleased()
		} else {
			l.markLost(LossSessionExpired)
		}
		return l
	}
	if reason, ok := s.lostSeen[key]; ok {
		delete(s.lostSeen, key)
		c.mu.Unlock()
		l.markLost(reason)
		return l
	}
	s.leases[key] = l
	if o.lease > 0 {
		c.wg.Add(1)
		c.tr.spawn(func() { l.renewLoop(a.sentAt) })
	}
	c.mu.Unlock()
	return l
}

// acquire sends an acquire or acquire-all and handles its wait: retries
// with the same request id until wait + request timeout + a few seconds,
// and withdraws the wait when ctx ends first.
func (c *Client) acquire(ctx context.Context, path string, fields map[string]any, wait time.Duration, names []string) (answer, *session, error) {
	if err := c.Err(); err != nil {
		return answer{}, nil, err
	}
	if err := ctx.Err(); err != nil {
		return answer{}, nil, err // nothing sent, nothing to withdraw
	}
	s, err := c.session(ctx, c.now().Add(wait+c.reqTimeout))
	if err != nil {
		return answer{}, nil, err
	}
	id := s.ledger.begin()
	cctx, stop := context.WithCancel(s.ctx)
	defer stop()
	req := c.numberedRequest(s, path, fields, id, wait+c.reqTimeout, c.now().Add(wait+c.reqTimeout+acquireSlack))
	done := make(chan struct{})
	var a answer
	c.tr.spawn(func() {
		defer close(done)
		a, err = c.tr.call(cctx, req)
	})
	select {
	case <-done:
	case <-ctx.Done():
		stop()
		<-done
		if err != nil { // aborted before its answer: withdraw the wait
			c.withdraw(s, names, id)
			return answer{}, nil, &withdrawnError{name: strings.Join(names, ", "), cause: ctx.Err()}
		}
	}
	if err != nil {
		if s.ctx.Err() != nil {
			return answer{}, nil, c.sessionErr(s, err)
		}
		if isCode(err, CodeUnavailable) {
			// The outcome is unknown: withdraw the wait (and release a grant)
			// in the background, so that nothing stays held unknown to us.
			if c.track() {
				c.tr.spawn(func() {
					defer c.wg.Done()
					c.withdraw(s, names, id)
				})
			}
		}
		return answer{}, nil, err
	}
	s.ledger.end(id)
	if a.status != 200 {
		return answer{}, nil, c.answerError(s, a)
	}
	return a, s, nil
}

// withdrawnError is returned by a wait that ctx ended: it wraps ctx.Err().
type withdrawnError struct {
	name  string
	cause error
}

func (e *withdrawnError) Error() string {
	return "holdfast: the wait for " + e.name + " was withdrawn: " + e.cause.Error()
}

func (e *withdrawnError) Unwrap() error { return e.cause }

// withdraw cancels the wait of request waitID (POST /api/v1/cancel); the
// acquire's number stays outstanding until the cancel is answered, and a
// grant the cancel reports as made is released. An acquire-all's wait is
// queued on one of its names, not known here: each name is tried in byte
// order until one cancel withdraws the wait or reports the grant.
func (c *Client) withdraw(s *session, names []string, waitID int64) {
	ctx := s.ctx
	for _, name := range names {
		a, err := c.numberedCall(ctx, s, "/api/v1/cancel", map[string]any{"name": name, "waitRequestId": waitID},
			c.reqTimeout, c.now().Add(3*c.reqTimeout))
		if err != nil {
			c.logf("holdfast: withdrawing the wait for %s (request %d): %v", name, waitID, err)
			return // the acquire stays outstanding: its outcome is not known
		}
		if a.status != 200 {
			c.logf("holdfast: withdrawing the wait for %s (request %d): %v", name, waitID, c.answerError(s, a))
			break
		}
		var ans cancelAnswer
		if json.Unmarshal(a.body, &ans) != nil {
			break
		}
		if ans.Cancelled {
			break
		}
		if grants := ans.grants(name, names); len(grants) > 0 {
			s.ledger.end(waitID)
			for _, g := range grants {
				if err := c.release(ctx, s, g.name, g.token); err != nil {
					c.logf("holdfast: releasing %s token %d granted to a withdrawn wait: %v", g.name, g.token, err)
				}
			}
			return
		}
		// cancelled:false without a grant: timed out already, or queued on another name.
	}
	s.ledger.end(waitID)
}

// cancelAnswer is the answer of POST /api/v1/cancel.
type cancelAnswer struct {
	Cancelled bool    `json:"cancelled"`
	Token     *int64  `json:"token"`
	Tokens    []int64 `json:"tokens"` // an acquire-all's grant, in byte order of its names
	Locks     []struct {
		Name  string `json:"name"`
		Token int64  `json:"token"`
	} `json:"locks"`
}

// grants lists the grants a cancel reports as made: "token" for an acquire
// (of name), "tokens" (in byte order of names) or "locks" for an acquire-all.
func (ans *cancelAnswer) grants(name string, names []string) []leaseKey {
	var out []leaseKey
	for _, lk := range ans.Locks {
		out = append(out, leaseKey{lk.Name, lk.Token})
	}
	if len(out) == 0 && len(ans.Tokens) > 0 && len(ans.Tokens) == len(names) {
		for i, tok := range ans.Tokens {
			out = append(out, leaseKey{names[i], tok})
		}
	}
	if len(out) == 0 && ans.Token != nil {
		n := name
		if len(names) == 1 {
			n = names[0]
		}
		out = append(out, leaseKey{n, *ans.Token})
	}
	return out
}

// release gives back a grant of session s.
func (c *Client) release(ctx context.Context, s *session, name string, token int64) error {
	a, err := c.numbered(ctx, s, "/api/v1/release", map[string]any{"name": name, "token": token})
	if err != nil {
		return err
	}
	if a.status != 200 {
		return c.answerError(s, a)
	}
	return nil
}

// IsCurrent reports whether token is still a current grant of name (asked
// of the leader; linearizable).
func (c *Client) IsCurrent(ctx context.Context, name string, token int64) (bool, error) {
	if name == "" {
		return false, invalidArgument("the lock name is empty")
	}
	q := url.Values{"name": {name}, "token": {strconv.FormatInt(token, 10)}}
	a, err := c.get(ctx, "/api/v1/fence?"+q.Encode())
	if err != nil {
		return false, err
	}
	if a.status != 200 {
		return false, c.answerError(nil, a)
	}
	var ans struct {
		Current bool `json:"current"`
	}
	if err := json.Unmarshal(a.body, &ans); err != nil {
		return false, unavailable("the fence answer is not JSON: %v", err)
	}
	return ans.Current, nil
}

// get sends a read to the home, retried for about 3× the request timeout.
func (c *Client) get(ctx context.Context, path string) (answer, error) {
	a, err := c.tr.call(ctx, request{
		method:         "GET",
		path:           path,
		attemptTimeout: c.reqTimeout,
		deadline:       c.now().Add(3 * c.reqTimeout),
		member:         -1,
	})
	if err != nil {
		return a, c.stateErr(err)
	}
	return a, nil
}

// numbered sends a numbered change of session s (nil: the current one,
// waited for between two within the call's time) and returns its final
// answer. If ctx ends first it returns ctx.Err(), and the request goes on in
// the background until its answer is known (so that its number can be
// acknowledged).
func (c *Client) numbered(ctx context.Context, s *session, path string, fields map[string]any) (answer, error) {
	if err := c.Err(); err != nil {
		return answer{}, err
	}
	if s == nil {
		var err error
		if s, err = c.session(ctx, c.now().Add(3*c.reqTimeout)); err != nil {
			return answer{}, err
		}
	}
	if !c.track() {
		return answer{}, c.Err()
	}
	type result struct {
		a   answer
		err error
	}
	ch := make(chan result, 1)
	c.tr.spawn(func() {
		defer c.wg.Done()
		a, err := c.numberedCall(s.ctx, s, path, fields, c.reqTimeout, c.now().Add(3*c.reqTimeout))
		ch <- result{a, err}
	})
	select {
	case r := <-ch:
		if r.err != nil {
			return r.a, c.sessionErr(s, r.err)
		}
		return r.a, nil
	case <-ctx.Done():
		return answer{}, ctx.Err()
	}
}

// numberedCall takes a number, sends the request until its final answer or
// the deadline, and ends the number once the answer is known.
func (c *Client) numberedCall(ctx context.Context, s *session, path string, fields map[string]any, attempt time.Duration, deadline time.Time) (answer, error) {
	id := s.ledger.begin()
	a, err := c.tr.call(ctx, c.numberedRequest(s, path, fields, id, attempt, deadline))
	if err == nil {
		s.ledger.end(id)
	}
	return a, err
}

// numberedRequest is a POST carrying the session, requestId and a fresh
// ackedBelow on each attempt.
func (c *Client) numberedRequest(s *session, path string, fields map[string]any, id int64, attempt time.Duration, deadline time.Time) request {
	return request{
		method: "POST",
		path:   path,
		body: func() any {
			m := make(map[string]any, len(fields)+3)
			for k, v := range fields {
				m[k] = v
			}
			m["session"] = s.id
			m["requestId"] = id
			m["ackedBelow"] = s.ledger.ackedBelow()
			return m
		},
		attemptTimeout: attempt,
		deadline:       deadline,
		member:         -1,
	}
}

// answerError makes the *Error of an error answer; a 410 also loses session
// s (nil: the current one).
func (c *Client) answerError(s *session, a answer) error {
	e, _ := parseError(a.status, a.body)
	if a.status == 410 || e.Code == CodeSessionExpired {
		if s == nil {
			c.mu.Lock()
			s = c.cur
			c.mu.Unlock()
		}
		if s != nil {
			c.expire(s, e.Message)
			return c.sessionErr(s, e)
		}
	}
	return e
}

// track adds a background goroutine to the wait group, unless the client is
// closed (whose Close may already be waiting).
func (c *Client) track() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == stateClosed {
		return false
	}
	c.wg.Add(1)
	return true
}

// expire loses session s (if it is the current one): every lease of it is
// lost (sessionExpired) and its background goroutines stop. Then the next
// session is opened (renewLoop), or, opted out, the client ends and later
// calls return ErrSessionExpired.
func (c *Client) expire(s *session, cause string) {
	c.mu.Lock()
	if c.state != stateOpen || c.cur != s || s == nil {
		c.mu.Unlock()
		return
	}
	s.err = &Error{Code: CodeSessionExpired, Message: "session " + s.id + " was lost: " + cause}
	c.cur = nil
	c.lostCause = cause
	renew := c.renew
	if !renew {
		c.state = stateExpired
		c.expiredErr = &Error{Code: CodeSessionExpired, Message: "session " + s.id + " expired: " + cause}
		close(c.changed)
		c.changed = make(chan struct{})
		c.cancel() // the client ends with its session: its watches too
	}
	leases := takeLeases(s)
	if renew {
		c.wg.Add(1)
	}
	c.mu.Unlock()
	if renew {
		c.logf("holdfast: %s; opening a new one", s.err.Message)
	} else {
		c.logf("holdfast: %s", c.expiredErr.Message)
	}
	s.cancel()
	for _, l := range leases {
		l.markLost(LossSessionExpired)
	}
	if renew {
		c.tr.spawn(func() { c.renewLoop(s) })
	} else {
		c.tell(func(l SessionListener) { l.Lost(s.id, s.err) })
	}
}

// takeLeases empties s's table of leases and returns them (c.mu held).
func takeLeases(s *session) []*Lease {
	out := make([]*Lease, 0, len(s.leases))
	for _, l := range s.leases {
		out = append(out, l)
	}
	s.leases = make(map[leaseKey]*Lease)
	return out
}

// forget drops a lease that ended from the held set.
func (c *Client) forget(l *Lease) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := leaseKey{l.name, l.token}
	if l.s.leases[key] == l {
		delete(l.s.leases, key)
	}
}

// sessionErr replaces an error caused by the end of session s (or of the
// client) with the reason.
func (c *Client) sessionErr(s *session, err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if se := c.stateErrLocked(); se != nil {
		return se
	}
	if s != nil && s.err != nil {
		return s.err
	}
	return err
}

// stateErr replaces an error caused by the session's end with the reason.
func (c *Client) stateErr(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if se := c.stateErrLocked(); se != nil {
		return se
	}
	return err
}

func (c *Client) stateErrLocked() error {
	switch c.state {
	case stateExpired:
		return c.expiredErr
	case stateClosed:
		return &Error{Code: CodeSessionExpired, Message: "the client is closed"}
	}
	return nil
}

func (c *Client) logf(format string, args ...any) {
	if c.logFn != nil {
		c.logFn(format, args...)
	}
}

func isCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

func defaultClientName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return "holdfast-go@" + host
}

// now is the time of the client's clock.
func (c *Client) now() time.Time { return c.tr.clock.Now() }
