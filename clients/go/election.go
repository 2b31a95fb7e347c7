package holdfast

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// MaxLeaderValueBytes is the most a leader may proclaim: a register holds
// 64 KiB, and the epoch goes in front.
const MaxLeaderValueBytes = 32 * 1024

// Election is the leader election of one name (Client.Election), composed
// like the Java client's from a lock and a register: who leads is the
// holder of the lock of the name; what the leader proclaims is the register
// of the same name, holding "<epoch>:<value>" written by compare-and-set
// fenced by the leadership's grant. The epoch is the grant's fencing token.
//
// Guaranteed: at most one valid leadership of a name at a time (the lock's
// guarantee); each new leadership has a higher epoch than every earlier one;
// a deposed leader's fenced writes are refused (fence them with
// FencedBy(leadership.Lease())).
//
// Not guaranteed: that a leader learns of its loss before the next one is
// elected: a process paused past its session TTL acts on until it runs
// again. Fence the writes that matter.
//
// A failure it handles: a candidate is elected but its proclamation fails
// (no member answers, or its grant is revoked meanwhile); Campaign then
// releases the lock, so that no silent leader is left behind, and returns
// the error.
type Election struct {
	c    *Client
	name string
}

// Election returns the election of name (nothing is sent until it is used).
func (c *Client) Election(name string) *Election { return &Election{c: c, name: name} }

// Name is the election's name: of its lock and of its register.
func (e *Election) Name() string { return e.name }

// Leader is who leads an election: the leadership's epoch and the value it
// proclaimed (Proclaimed false, Value "": elected a moment ago, not
// proclaimed yet).
type Leader struct {
	Election   string
	Epoch      int64
	Value      string
	Proclaimed bool
}

// Leadership is a won campaign. Its epoch is its grant's fencing token.
type Leadership struct {
	election string
	value    string
	lease    *Lease
}

// Election is the election's name.
func (l *Leadership) Election() string { return l.election }

// Value is what this leadership proclaimed.
func (l *Leadership) Value() string { return l.value }

// Epoch is the leadership's epoch: its grant's fencing token.
func (l *Leadership) Epoch() int64 { return l.lease.FencingToken() }

// Lease is the grant the leadership stands on: fence writes with it.
func (l *Leadership) Lease() *Lease { return l.lease }

// Valid is true until the leadership is resigned or lost.
func (l *Leadership) Valid() bool { return l.lease.Valid() }

// Lost is closed when the leadership is lost (session expired, revoked);
// not when it resigns. OnLost, given to Campaign, is called then too.
func (l *Leadership) Lost() <-chan struct{} { return l.lease.Lost() }

// Resign gives the leadership up (releases the lock): the next candidate
// leads. Idempotent.
func (l *Leadership) Resign() error { return l.lease.Release() }

func (l *Leadership) String() string {
	return "leadership of " + l.election + " epoch " + strconv.FormatInt(l.Epoch(), 10)
}

// Campaign waits to be elected (Wait(d) says how long; without it, it tries
// once), then proclaims value. opts are Lock's (Wait, LeaseTimeout,
// OnLost, Owner); the lock is always exclusive. Errors: ErrLockTimeout when
// not elected in time (the candidacy is withdrawn), Lock's errors, and a
// register write's (the lock is then released).
func (e *Election) Campaign(ctx context.Context, value string, opts ...LockOption) (*Leadership, error) {
	if e.name == "" {
		return nil, invalidArgument("the election's name is empty")
	}
	if len(value) > MaxLeaderValueBytes {
		return nil, invalidArgument("the value is over %d bytes", MaxLeaderValueBytes)
	}
	lease, err := e.campaign(ctx, opts)
	if err != nil {
		return nil, err
	}
	reg := e.c.Register(e.name)
	version, _, err := reg.Get(ctx)
	if err == nil {
		_, err = reg.CompareAndSet(ctx, version, []byte(strconv.FormatInt(lease.FencingToken(), 10)+":"+value), FencedBy(lease))
	}
	if err != nil {
		if rerr := lease.Release(); rerr != nil {
			e.c.logf("holdfast: releasing %s after a failed proclamation: %v", e.name, rerr)
		}
		return nil, err
	}
	return &Leadership{election: e.name, value: value, lease: lease}, nil
}

// campaign is the Lock of a campaign. A campaign whose session is lost while
// it waits campaigns again under the next session, within what is left of
// its wait (unless the client opted out of renewing sessions).
func (e *Election) campaign(ctx context.Context, opts []LockOption) (*Lease, error) {
	o := buildOptions(opts)
	deadline := e.c.now().Add(o.wait)
	for {
		before := e.c.SessionID()
		wait := deadline.Sub(e.c.now())
		if wait < 0 {
			wait = 0
		}
		lease, err := e.c.Lock(ctx, e.name, append(append([]LockOption(nil), opts...), Exclusive(), Wait(wait))...)
		if err == nil || !e.c.renew || ctx.Err() != nil || !e.c.now().Before(deadline) ||
			!(isCode(err, CodeSessionExpired) || isCode(err, CodeUnavailable)) {
			return lease, err
		}
		if !e.c.Renewing() && e.c.SessionID() == before {
			return lease, err // the acquire's own failure, not a lost session
		}
		e.c.logf("holdfast: campaign for %s: session lost; campaigning again", e.name)
	}
}

// Leader says who leads now; nil (and no error) when nobody does. It asks
// the leader, in one request: GET /api/v1/elections/{name}, whose value is
// null while the leader has not proclaimed it (docs/protocol.md).
func (e *Election) Leader(ctx context.Context) (*Leader, error) {
	if e.name == "" {
		return nil, invalidArgument("the election's name is empty")
	}
	a, err := e.c.get(ctx, "/api/v1/elections/"+escapePath(e.name))
	if err != nil {
		return nil, err
	}
	if a.status == 404 {
		return nil, nil
	}
	if a.status != 200 {
		return nil, e.c.answerError(nil, a)
	}
	var ans struct {
		Election *struct {
			Epoch int64   `json:"epoch"`
			Value *string `json:"value"`
		} `json:"election"`
	}
	if err := json.Unmarshal(a.body, &ans); err != nil || ans.Election == nil {
		return nil, unavailable("the answer of GET /api/v1/elections/%s names no election", e.name)
	}
	l := &Leader{Election: e.name, Epoch: ans.Election.Epoch}
	if ans.Election.Value != nil {
		l.Value, l.Proclaimed = *ans.Election.Value, true
	}
	return l, nil
}

var digits = regexp.MustCompile(`^[0-9]+$`)

// proclaimed reads an election record, "<epoch>:<value>": the epoch in
// ASCII digits, at most 2^63-1 (docs/protocol.md; clients/vectors/records.json).
func proclaimed(raw []byte) (int64, string, bool) {
	text := string(raw)
	i := strings.IndexByte(text, ':')
	if raw == nil || i <= 0 || !digits.MatchString(text[:i]) {
		return 0, "", false
	}
	epoch, err := strconv.ParseInt(text[:i], 10, 64)
	if err != nil {
		return 0, "", false
	}
	return epoch, text[i+1:], true
}
