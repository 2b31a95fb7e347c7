package holdfast

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// heard records what a session listener is told, in order.
type heard struct{ calls chan [2]string }

func newHeard(c *Client) *heard {
	h := &heard{calls: make(chan [2]string, 16)}
	c.OnSession(SessionFuncs{
		OnLost:          func(old string, cause error) { h.calls <- [2]string{"lost " + old, cause.Error()} },
		OnReestablished: func(id string) { h.calls <- [2]string{"reestablished", id} },
	})
	return h
}

func (h *heard) next(t *testing.T) [2]string {
	t.Helper()
	select {
	case c := <-h.calls:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("the session listener was told nothing within 5 s")
		return [2]string{}
	}
}

func (f *fakeCluster) setRefuseOpens(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuseOpens = on
}

func (f *fakeCluster) setRefusePuts(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refusePuts = on
}

func (f *fakeCluster) refusedPutCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refusedPuts
}

// openLogged is openFake (one member) whose client's diagnostics also go to
// logs, each line, so that a test can wait for one (dropped if logs is full).
func openLogged(t *testing.T, cfg Config, logs chan string) (*fakeCluster, *Client) {
	t.Helper()
	f := newFakeCluster(t, 1, 0)
	noLeaks(t)
	cfg.Members = f.urls()
	cfg.Logf = func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		t.Log(line)
		select {
		case logs <- line:
		default:
		}
	}
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return f, c
}

// waitLog waits up to 5 s for a line of logs that contains part.
func waitLog(t *testing.T, logs chan string, part string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case line := <-logs:
			if strings.Contains(line, part) {
				return
			}
		case <-deadline:
			t.Fatalf("the client logged nothing with %q within 5 s", part)
		}
	}
}

func (f *fakeCluster) setKeepalive(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keepalive = status
}

func TestALostSessionIsFollowedByANewOneAndItsLeaseStaysLost(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{})
	h := newHeard(c)
	ctx := context.Background()
	old := c.SessionID()
	lost := make(chan LossReason, 1)
	l := mustLock(t, ctx, c, "jobs/a", OnLost(func(_ *Lease, r LossReason) { lost <- r }))
	acquires := len(f.seen("/api/v1/acquire"))
	f.expire(old)
	if got := h.next(t); got[0] != "lost "+old || !strings.Contains(got[1], "expired") {
		t.Fatalf("first told %q, want lost %s with the cause", got, old)
	}
	got := h.next(t)
	if got[0] != "reestablished" || got[1] == old || got[1] != c.SessionID() {
		t.Fatalf("then told %q (session now %s), want a new session", got, c.SessionID())
	}
	if r := <-lost; r != LossSessionExpired || l.Valid() {
		t.Fatalf("the lease: %q valid=%v", r, l.Valid())
	}
	if c.Err() != nil {
		t.Fatalf("the client goes on: %v", c.Err())
	}
	if n := len(f.seen("/api/v1/acquire")); n != acquires {
		t.Fatalf("the library took a lock again: %d acquires, was %d", n, acquires)
	}
	again := mustLock(t, ctx, c, "jobs/b")
	acq := f.seen("/api/v1/acquire")
	if str(acq[len(acq)-1].body, "session") != got[1] || again.FencingToken() <= l.FencingToken() {
		t.Fatalf("a new acquire is the new session's: %v, token %d", acq[len(acq)-1].body, again.FencingToken())
	}
}

func TestSilenceForATTLLosesTheSessionAndAWatchGoesOn(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{SessionTTL: time.Second, RequestTimeout: 200 * time.Millisecond})
	h := newHeard(c)
	ctx := context.Background()
	old := c.SessionID()
	w := mustWatch(t, ctx, c, WatchLock("jobs/w"))
	if e := nextEvent(t, w); e.Type != WatchState {
		t.Fatalf("first %+v", e)
	}
	f.setKeepalive(503)
	if got := h.next(t); got[0] != "lost "+old || !strings.Contains(got[1], "no heartbeat was acknowledged for 1s") {
		t.Fatalf("told %q", got)
	}
	f.setKeepalive(0)
	if got := h.next(t); got[0] != "reestablished" {
		t.Fatalf("told %q", got)
	}
	l := mustLock(t, ctx, c, "jobs/w")
	for {
		e := nextEvent(t, w)
		if e.Type == WatchAcquired {
			if e.Token != l.FencingToken() || e.SessionID != c.SessionID() {
				t.Fatalf("acquired %+v", e)
			}
			break
		}
	}
	if w.Err() != nil {
		t.Fatalf("the watch ended: %v", w.Err())
	}
}

func TestACallBetweenTwoSessionsWaitsThenNamesTheCause(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{RequestTimeout: 300 * time.Millisecond})
	h := newHeard(c)
	ctx := context.Background()
	f.setRefuseOpens(true)
	f.expire(c.SessionID())
	h.next(t)
	start := time.Now()
	_, err := c.Lock(ctx, "jobs/g")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no session: the last was lost (the cluster reports the session expired") ||
		!strings.Contains(err.Error(), "opening a new one") {
		t.Fatalf("Lock between two sessions: %v", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("failed after %v, without waiting within its timeout", d)
	}
	if _, err := c.Keys().Get(ctx, "nothing/here"); err != nil {
		t.Fatalf("a read needs no session: %v", err)
	}
	f.setRefuseOpens(false)
	l := mustLock(t, ctx, c, "jobs/g", Wait(3*time.Second))
	if h.next(t)[0] != "reestablished" || !f.held("jobs/g") || l.FencingToken() == 0 {
		t.Fatal("the wait did not reach the next session")
	}
}

func TestAMemberIsJoinedAgainWithItsLastValue(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{})
	h := newHeard(c)
	ctx := context.Background()
	g := c.Keys().Group("services/web")
	for _, v := range []string{"10.0.0.1:80", "10.0.0.1:81"} {
		if _, err := g.Join(ctx, "i-1", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.Join(ctx, "i-2", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if left, err := g.Leave(ctx, "i-2"); !left || err != nil {
		t.Fatalf("leave %v %v", left, err)
	}
	f.expire(c.SessionID())
	h.next(t)
	h.next(t)
	id := c.SessionID()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if e, _ := c.Keys().Get(ctx, "services/web/i-1"); e != nil && e.Owner == id {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	members, err := g.Members(ctx)
	e, _ := c.Keys().Get(ctx, "services/web/i-1")
	if err != nil || len(members) != 1 || string(members["i-1"]) != "10.0.0.1:81" || e == nil || e.Owner != id {
		t.Fatalf("members %q (%v), i-1 %+v, want i-1 alone, joined again by %s", members, err, e, id)
	}
}

func TestAKeyOfItsOwnLostSessionIsJoinedAgain(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{SessionTTL: time.Second, RequestTimeout: 200 * time.Millisecond})
	h := newHeard(c)
	ctx := context.Background()
	if _, err := c.Keys().Group("services/web").Join(ctx, "i-1", []byte("v")); err != nil {
		t.Fatal(err)
	}
	f.setKeepalive(503) // the client gives its session up; the fake never expires it
	h.next(t)
	f.setKeepalive(0)
	h.next(t)
	id := c.SessionID()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if e, _ := c.Keys().Get(ctx, "services/web/i-1"); e != nil && e.Owner == id {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the member held by the client's own lost session was not joined again")
}

// The service is gone again right after the new session opened (a leader
// election right after an outage): the member's first join under it fails,
// and it is tried again until the service answers.
func TestAJoinThatFailsUnderTheNewSessionIsTriedAgain(t *testing.T) {
	logs := make(chan string, 256)
	f, c := openLogged(t, Config{RequestTimeout: 200 * time.Millisecond}, logs)
	h := newHeard(c)
	ctx := context.Background()
	if _, err := c.Keys().Group("services/web").Join(ctx, "i-1", []byte("10.0.0.1:80")); err != nil {
		t.Fatal(err)
	}
	f.setRefusePuts(true)
	f.expire(c.SessionID())
	h.next(t)
	h.next(t)
	id := c.SessionID()
	waitLog(t, logs, "joining services/web/i-1 again") // the first try failed
	if f.refusedPutCount() == 0 {
		t.Fatal("no put was refused")
	}
	f.setRefusePuts(false)
	deadline := time.Now().Add(3 * time.Second)
	var e *KeyEntry
	for time.Now().Before(deadline) {
		if e, _ = c.Keys().Get(ctx, "services/web/i-1"); e != nil && e.Owner == id {
			if string(e.Value) != "10.0.0.1:80" {
				t.Fatalf("joined again with %q", e.Value)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the member is %+v, not joined again under %s after its first try failed", e, id)
}

// A member that leaves while its join is tried again is not joined again.
func TestAMemberThatLeftWhileItsJoinIsTriedAgainStaysOut(t *testing.T) {
	logs := make(chan string, 256)
	f, c := openLogged(t, Config{RequestTimeout: 200 * time.Millisecond}, logs)
	h := newHeard(c)
	ctx := context.Background()
	g := c.Keys().Group("services/web")
	if _, err := g.Join(ctx, "i-1", []byte("v")); err != nil {
		t.Fatal(err)
	}
	f.setRefusePuts(true)
	f.expire(c.SessionID())
	h.next(t)
	h.next(t)
	waitLog(t, logs, "joining services/web/i-1 again")
	if left, err := g.Leave(ctx, "i-1"); left || err != nil { // its key went with the lost session
		t.Fatalf("leave %v %v", left, err)
	}
	// Longer than a try (its requests' 3 × 200 ms) and a pause: a try that
	// was under way when it left has failed.
	time.Sleep(time.Second)
	f.setRefusePuts(false)
	time.Sleep(1500 * time.Millisecond) // longer than the longest pause
	if e, err := c.Keys().Get(ctx, "services/web/i-1"); e != nil || err != nil {
		t.Fatalf("the member that left is %+v (%v)", e, err)
	}
}

func TestANameAnotherSessionTookIsNotTakenOver(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{})
	other := open(t, f, Config{RenewSessions: Bool(false)})
	t.Cleanup(func() { _ = other.Close() })
	h := newHeard(c)
	ctx := context.Background()
	failed := make(chan [2]string, 1)
	g := c.Keys().Group("services/web").OnRejoinFailed(func(m, holder string) { failed <- [2]string{m, holder} })
	if _, err := g.Join(ctx, "i-1", []byte("first")); err != nil {
		t.Fatal(err)
	}
	f.setRefuseOpens(true)
	f.expire(c.SessionID())
	h.next(t)
	if _, err := other.Keys().Group("services/web").Join(ctx, "i-1", []byte("second")); err != nil {
		t.Fatal(err)
	}
	f.setRefuseOpens(false)
	h.next(t)
	select {
	case got := <-failed:
		if got != [2]string{"i-1", other.SessionID()} {
			t.Fatalf("told %q", got)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("OnRejoinFailed was not called")
	}
	if e, _ := c.Keys().Get(ctx, "services/web/i-1"); e == nil || string(e.Value) != "second" || e.Owner != other.SessionID() {
		t.Fatalf("the key %+v", e)
	}
}

func TestACampaignWhoseSessionIsLostCampaignsAgain(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{})
	holder := open(t, f, Config{RenewSessions: Bool(false)})
	t.Cleanup(func() { _ = holder.Close() })
	ctx := context.Background()
	leading, err := holder.Election("e").Campaign(ctx, "holder")
	if err != nil {
		t.Fatal(err)
	}
	h := newHeard(c)
	won := make(chan *Leadership, 1)
	go func() {
		l, err := c.Election("e").Campaign(ctx, "again", Wait(10*time.Second))
		if err != nil {
			t.Errorf("campaign: %v", err)
		}
		won <- l
	}()
	deadline := time.Now().Add(3 * time.Second)
	for len(f.seen("/api/v1/acquire")) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	old := c.SessionID()
	f.expire(old)
	h.next(t)
	h.next(t)
	if err := leading.Resign(); err != nil {
		t.Fatal(err)
	}
	select {
	case l := <-won:
		if l == nil || c.SessionID() == old || l.Epoch() <= leading.Epoch() {
			t.Fatalf("won %v under %s", l, c.SessionID())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the campaign did not go on under the new session")
	}
}

func TestOptedOutTheClientEndsWithItsSession(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{RenewSessions: Bool(false)})
	h := newHeard(c)
	old := c.SessionID()
	f.expire(old)
	if got := h.next(t); got[0] != "lost "+old {
		t.Fatalf("told %q", got)
	}
	deadline := time.Now().Add(2 * time.Second)
	for c.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !errors.Is(c.Err(), ErrSessionExpired) || c.SessionID() != old {
		t.Fatalf("err %v, session %s", c.Err(), c.SessionID())
	}
	select {
	case got := <-h.calls:
		t.Fatalf("told %q after opting out", got)
	case <-time.After(300 * time.Millisecond):
	}
}

func TestRenewBackoffDoublesFrom100msTo2sWithFullJitter(t *testing.T) {
	b := newRenewBackoff(func(n int64) int64 { return n / 2 })
	var got []time.Duration
	for i := 0; i < 9; i++ {
		got = append(got, b.delay())
	}
	want := []time.Duration{50, 100, 200, 400, 800, 1000, 1000, 1000, 1000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("delays %v, want %v ms", got, want)
		}
	}
}

func TestRejoinPausesDoubleFrom100msTo1sWithoutJitter(t *testing.T) {
	var got []time.Duration
	for d := rejoinFirst; len(got) < 7; d = nextRejoinPause(d) {
		got = append(got, d)
	}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000, 1000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("pauses %v, want %v ms", got, want)
		}
	}
}

// A renewal's try whose home never answers the open is not used up there:
// its attempt at that member gets half the try, and another member opens the
// session within the same try (no try fails, nothing is paused).
func TestARenewalTryOutlivesAMemberThatNeverAnswersTheOpen(t *testing.T) {
	f := serving(t)
	logs := make(chan string, 64)
	c, err := New(context.Background(), Config{
		Members:        f.urls(),
		Calls:          "first",
		RequestTimeout: time.Second,
		Logf: func(format string, args ...any) {
			line := fmt.Sprintf(format, args...)
			t.Log(line)
			select {
			case logs <- line:
			default:
			}
		},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	h := newHeard(c)
	old := c.SessionID()
	f.mu.Lock()
	f.silentOpens[0] = true
	f.mu.Unlock()
	f.expire(old)
	if got := h.next(t); got[0] != "lost "+old {
		t.Fatalf("first told %q, want lost %s", got, old)
	}
	if got := h.next(t); got[0] != "reestablished" || got[1] == old {
		t.Fatalf("then told %q, want a new session", got)
	}
	for {
		select {
		case line := <-logs:
			if strings.Contains(line, "opening a session after") {
				t.Fatalf("a try failed at the silent member: %s", line)
			}
			continue
		default:
		}
		break
	}
	at := f.nodesHitAt(func(path string) bool { return path == "/api/v1/sessions" })
	if len(at) < 3 || at[len(at)-1] == 0 {
		t.Fatalf("session opens at nodes %v: want the first, then the silent home, then another", at)
	}
}
