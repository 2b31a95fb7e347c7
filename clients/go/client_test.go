package holdfast

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// noLeaks checks, at the end of the test, that the goroutines the test
// started (the library's background loops included) are gone.
func noLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%d goroutines left over (%d before):\n%s", n-before, before, buf)
		}
	})
}

// openFake opens a client (cfg, as open completes it) of a fake cluster of
// nodes members led by leader; the client is closed after the test and the test
// fails if it leaves goroutines behind.
func openFake(t *testing.T, nodes, leader int, cfg Config) (*fakeCluster, *Client) {
	t.Helper()
	f := newFakeCluster(t, nodes, leader)
	noLeaks(t)
	c := open(t, f, cfg)
	t.Cleanup(func() { _ = c.Close() })
	return f, c
}

// mustLock takes the lock name for c, or fails the test.
func mustLock(t *testing.T, ctx context.Context, c *Client, name string, opts ...LockOption) *Lease {
	t.Helper()
	l, err := c.Lock(ctx, name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// mustWatch starts c's watch of target, closed after the test, or fails the test.
func mustWatch(t *testing.T, ctx context.Context, c *Client, target WatchTarget) *Watch {
	t.Helper()
	w, err := c.Watch(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}

func open(t *testing.T, f *fakeCluster, cfg Config) *Client {
	t.Helper()
	cfg.Members = f.urls()
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = time.Second
	}
	cfg.Logf = t.Logf
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestLockReleaseCloseNumbersRequests(t *testing.T) {
	f := newFakeCluster(t, 1, 0)
	noLeaks(t)
	c := open(t, f, Config{})
	l, err := c.Lock(context.Background(), "jobs/a")
	if err != nil {
		t.Fatal(err)
	}
	if l.FencingToken() <= 100 || l.Name() != "jobs/a" || !l.Valid() {
		t.Fatalf("lease %v valid %v", l, l.Valid())
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if l.Valid() {
		t.Fatal("valid after release")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	reqs := f.allRequests()
	want := []struct {
		path       string
		id, acked  int64
		sessionSet bool
	}{{"/api/v1/acquire", 1, 1, true}, {"/api/v1/release", 2, 2, true}, {"/api/v1/sessions/" + c.SessionID(), 3, 3, false}}
	if len(reqs) != len(want) {
		t.Fatalf("requests %+v", reqs)
	}
	for i, w := range want {
		r := reqs[i]
		if r.path != w.path || r.requestID != w.id || r.ackedBelow != w.acked {
			t.Errorf("request %d: %s id %d acked %d, want %s id %d acked %d", i, r.path, r.requestID, r.ackedBelow, w.path, w.id, w.acked)
		}
		if w.sessionSet && str(r.body, "session") != c.SessionID() {
			t.Errorf("request %d without the session", i)
		}
	}
	if _, err := c.Lock(context.Background(), "x"); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("Lock after Close: %v", err)
	}
}

func TestLostAnswerIsRetriedWithTheSameRequestID(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{})
	f.mu.Lock()
	f.drop["/api/v1/acquire"] = 1
	f.mu.Unlock()
	l, err := c.Lock(context.Background(), "jobs/once", Wait(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	seen := f.seen("/api/v1/acquire")
	if len(seen) != 2 || seen[0].requestID != seen[1].requestID {
		t.Fatalf("acquires %+v: want the same request twice", seen)
	}
	f.mu.Lock()
	g := f.holders["jobs/once"]
	f.mu.Unlock()
	if g.token != l.FencingToken() {
		t.Fatalf("token %d, the cluster granted %d", l.FencingToken(), g.token)
	}
	// The next request acknowledges the acquire.
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	rel := f.seen("/api/v1/release")
	if rel[0].ackedBelow != seen[0].requestID+1 {
		t.Fatalf("release ackedBelow %d, want %d", rel[0].ackedBelow, seen[0].requestID+1)
	}
}

func TestFollowsTheLeader(t *testing.T) {
	f, c := openFake(t, 3, 2, Config{Calls: "first"})
	l, err := c.Lock(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	for _, r := range f.allRequests() {
		if r.node != 2 {
			t.Fatalf("request at node %d, the leader is 2", r.node)
		}
	}
	// The first member named the leader (it does not serve sessions, as an
	// older build's members do): the home moved there.
	if c.tr.homeIndex() != 2 {
		t.Fatalf("home %d", c.tr.homeIndex())
	}
}

func TestUnreachableMembersNameTheCause(t *testing.T) {
	noLeaks(t)
	start := time.Now()
	_, err := New(context.Background(), Config{Members: []string{"http://127.0.0.1:1"}, RequestTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "http://127.0.0.1:1: connection refused") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("message %q", err.Error())
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 2*time.Second {
		t.Fatalf("gave up after %v, want about 3× the request timeout", d)
	}
}

func TestWaitIsGranted(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{})
	f.hold("q")
	time.AfterFunc(150*time.Millisecond, func() { f.free("q") })
	start := time.Now()
	l, err := c.Lock(context.Background(), "q", Wait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Fatal("granted before the holder let go")
	}
	_ = l.Release()
	f.hold("r")
	_, err = c.Lock(context.Background(), "r", Wait(100*time.Millisecond))
	if !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("got %v, want TIMEOUT", err)
	}
}

func TestCancelWithdrawsTheWait(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{})
	f.hold("busy")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Lock(ctx, "busy", Wait(10*time.Second))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
	acq := f.seen("/api/v1/acquire")
	can := f.seen("/api/v1/cancel")
	if len(can) != 1 || num(can[0].body, "waitRequestId") != acq[0].requestID || str(can[0].body, "name") != "busy" {
		t.Fatalf("cancels %+v for acquire %+v", can, acq)
	}
	if can[0].ackedBelow != acq[0].requestID {
		t.Fatalf("the acquire must stay outstanding until the cancel is answered: ackedBelow %d", can[0].ackedBelow)
	}
	if got := c.cur.ledger.ackedBelow(); got != can[0].requestID+1 {
		t.Fatalf("after the cancel: ackedBelow %d, want %d", got, can[0].requestID+1)
	}
}

func TestCancelReleasesAGrantAlreadyMade(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{})
	// The acquire is granted but its answer is dropped; the caller gives up
	// during the retry's backoff: the cancel finds the grant and the library
	// releases it.
	f.mu.Lock()
	f.drop["/api/v1/acquire"] = 5
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := c.Lock(ctx, "g", Wait(time.Second))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if rel := f.seen("/api/v1/release"); len(rel) != 1 || str(rel[0].body, "name") != "g" {
		t.Fatalf("releases %+v", rel)
	}
	if f.held("g") {
		t.Fatal("the grant is still held")
	}
}

func TestRevokeIsReportedWithinASecond(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{})
	lost := make(chan LossReason, 1)
	l, err := c.Lock(context.Background(), "jobs/r", OnLost(func(_ *Lease, r LossReason) { lost <- r }))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the long poll is waiting
	start := time.Now()
	f.revoke("jobs/r", true)
	select {
	case r := <-lost:
		if r != LossRevoked || l.Valid() || time.Since(start) > time.Second {
			t.Fatalf("reason %q valid %v after %v", r, l.Valid(), time.Since(start))
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no loss reported")
	}
	if err := l.Release(); err != nil {
		t.Fatalf("release after a loss: %v", err)
	}
}

func TestLeaseIsRenewedAndLostOnNotOwner(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{})
	lost := make(chan LossReason, 1)
	l, err := c.Lock(context.Background(), "lt", LeaseTimeout(300*time.Millisecond), OnLost(func(_ *Lease, r LossReason) { lost <- r }))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(450 * time.Millisecond)
	if n := len(f.seen("/api/v1/renew")); n < 2 || !l.Valid() {
		t.Fatalf("%d renewals, valid %v", n, l.Valid())
	}
	f.revoke("lt", false) // taken away without an event: the next renewal finds out
	select {
	case r := <-lost:
		if r != LossLeaseTimeout {
			t.Fatalf("reason %q", r)
		}
	case <-time.After(time.Second):
		t.Fatal("no loss reported")
	}
}

func TestUnacknowledgedHeartbeatsExpireTheSession(t *testing.T) {
	// Opted out of renewing: the client ends with its session.
	f, c := openFake(t, 1, 0, Config{SessionTTL: time.Second, RequestTimeout: 200 * time.Millisecond, RenewSessions: Bool(false)})
	lost := make(chan LossReason, 1)
	l, err := c.Lock(context.Background(), "hb", OnLost(func(_ *Lease, r LossReason) { lost <- r }))
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.keepalive = 503 // UNAVAILABLE, forever
	f.mu.Unlock()
	start := time.Now()
	select {
	case r := <-lost:
		if r != LossSessionExpired {
			t.Fatalf("reason %q", r)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the session did not expire locally")
	}
	if d := time.Since(start); d > 1200*time.Millisecond {
		t.Fatalf("expired %v after heartbeats stopped being acknowledged; TTL is 1s", d)
	}
	if l.Valid() || !errors.Is(c.Err(), ErrSessionExpired) {
		t.Fatal("not expired")
	}
	if _, err := c.Lock(context.Background(), "x"); !errors.Is(err, ErrSessionExpired) || !strings.Contains(err.Error(), "heartbeat") {
		t.Fatalf("Lock after expiry: %v", err)
	}
}

func TestSessionExpiredAnswerExpires(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{SessionTTL: 1500 * time.Millisecond, RenewSessions: Bool(false)})
	f.mu.Lock()
	f.keepalive = 410
	f.mu.Unlock()
	deadline := time.Now().Add(2 * time.Second)
	for c.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !errors.Is(c.Err(), ErrSessionExpired) {
		t.Fatalf("err %v", c.Err())
	}
}

func TestRegisters(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{})
	ctx := context.Background()
	r := c.Register("cfg/a")
	v, val, err := r.Get(ctx)
	if err != nil || v != 0 || val != nil {
		t.Fatalf("absent: %d %q %v", v, val, err)
	}
	l := mustLock(t, ctx, c, "cfg/lock")
	v, err = r.CompareAndSet(ctx, 0, []byte("hello"), FencedBy(l))
	if err != nil || v != 1 {
		t.Fatalf("set: %d %v", v, err)
	}
	set := f.seen("/api/v1/registers/set")
	if str(set[0].body, "value") != "aGVsbG8=" || str(set[0].body, "fenceName") != "cfg/lock" || num(set[0].body, "fenceToken") != l.FencingToken() {
		t.Fatalf("sent %+v", set[0].body)
	}
	_, err = r.CompareAndSet(ctx, 0, []byte("again"))
	var he *Error
	if !errors.Is(err, ErrConflict) || !errors.As(err, &he) || he.CurrentVersion != 1 {
		t.Fatalf("got %v", err)
	}
	v, val, err = r.Get(ctx)
	if err != nil || v != 1 || string(val) != "hello" {
		t.Fatalf("get: %d %q %v", v, val, err)
	}
	cur, err := c.IsCurrent(ctx, "cfg/lock", l.FencingToken())
	if err != nil || !cur {
		t.Fatalf("current %v %v", cur, err)
	}
	cur, err = c.IsCurrent(ctx, "cfg/lock", l.FencingToken()-1)
	if err != nil || cur {
		t.Fatalf("old token current %v %v", cur, err)
	}
}

func TestCloseMarksLeasesReleased(t *testing.T) {
	f := newFakeCluster(t, 1, 0)
	noLeaks(t)
	c := open(t, f, Config{})
	called := make(chan LossReason, 1)
	l, err := c.Lock(context.Background(), "c", LeaseTimeout(time.Second), OnLost(func(_ *Lease, r LossReason) { called <- r }))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Valid() || l.Err() != nil {
		t.Fatalf("valid %v err %v", l.Valid(), l.Err())
	}
	if err := l.Release(); err != nil {
		t.Fatalf("release after close: %v", err)
	}
	select {
	case r := <-called:
		t.Fatalf("loss callback on close: %q", r)
	case <-time.After(50 * time.Millisecond):
	}
	if f.held("c") {
		t.Fatal("still held after close")
	}
}

func TestGapFromALaggingMemberDoesNotExpire(t *testing.T) {
	_, c := openFake(t, 1, 0, Config{})
	var p eventPage
	_ = json.Unmarshal([]byte(`{"gap":true,"next":"1.0","events":[],"state":{"exists":false,"holds":[],"waits":[]}}`), &p)
	if !c.handlePage(c.cur, &p, time.Now()) || c.Err() != nil {
		t.Fatalf("expired on a gap the leader contradicts: %v", c.Err())
	}
}
