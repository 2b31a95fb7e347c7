package holdfast

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseWatchPage(t *testing.T) {
	events, next, err := parseWatchPage([]byte(`{"watch":"lock","name":"jobs/nightly","gap":true,"next":"915.0","events":[],
		"locks":[{"name":"jobs/nightly","semaphore":false,"maxPermits":1,
		  "holders":[{"sessionId":"S","token":42,"mode":"exclusive","permits":1,"clientName":"c"}],
		  "waiters":[{"sessionId":"T","mode":"exclusive","permits":1}]}]}`))
	if err != nil || next != "915.0" || len(events) != 1 {
		t.Fatalf("%v %q %v", events, next, err)
	}
	st := events[0]
	if st.Type != WatchState || st.Position != "915.0" || !reflect.DeepEqual(st.Holders(), []int64{42}) || st.Locks[0].Waiters[0].SessionID != "T" {
		t.Fatalf("state %+v", st)
	}
	events, _, err = parseWatchPage([]byte(`{"watch":"register","name":"config/x","gap":true,"next":"915.0","events":[],
		"register":{"key":"config/x","version":3,"value":"aGVsbG8="}}`))
	if err != nil || events[0].Version != 3 || string(events[0].Value) != "hello" || events[0].Locks != nil {
		t.Fatalf("register state %+v %v", events, err)
	}
	events, next, err = parseWatchPage([]byte(`{"name":"jobs/","gap":false,"next":"20.1","events":[
		{"type":"queued","name":"jobs/a","sessionId":"T","mode":"exclusive","position":"11.1"},
		{"type":"acquired","name":"jobs/a","sessionId":"S","token":7,"mode":"exclusive","position":"12.1"},
		{"type":"somethingNew","name":"jobs/a","position":"13.1"},
		{"type":"released","name":"jobs/a","sessionId":"S","token":7,"mode":"exclusive","cause":"revoked","position":"14.1"},
		{"type":"waitEnded","name":"jobs/a","sessionId":"T","mode":"exclusive","cause":"timedOut","position":"15.1"},
		{"type":"registerSet","name":"jobs/a","sessionId":"S","version":2,"value":"eA==","position":"20.1"}]}`))
	if err != nil || next != "20.1" {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, string(e.Type)+"@"+e.Position)
	}
	want := []string{"queued@11.1", "acquired@12.1", "released@14.1", "waitEnded@15.1", "registerSet@20.1"}
	if !reflect.DeepEqual(got, want) || events[2].Cause != "revoked" || events[2].Token != 7 || string(events[4].Value) != "x" {
		t.Fatalf("got %v %+v", got, events)
	}
	if _, _, err := parseWatchPage([]byte(`[1,2]`)); err == nil {
		t.Fatal("an array was read as a page")
	}
}

// nextEvent reads one event, failing the test after a few seconds.
func nextEvent(t *testing.T, w *Watch) WatchEvent {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatalf("the watch ended: %v", w.Err())
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return WatchEvent{}
}

// nextOfType is the next event of w, which must be of type typ.
func nextOfType(t *testing.T, w *Watch, typ WatchEventType) WatchEvent {
	t.Helper()
	ev := nextEvent(t, w)
	if ev.Type != typ {
		t.Fatalf("got %+v, want a %s event", ev, typ)
	}
	return ev
}

// watchClients starts a fake cluster of nodes members (the first leads) and
// opens two clients of it, closed after the test, both at home on the first
// member (a test below kills it).
func watchClients(t *testing.T, nodes int) (*fakeCluster, *Client, *Client) {
	t.Helper()
	f := newFakeCluster(t, nodes, 0)
	var out []*Client
	for i := 0; i < 2; i++ {
		// Opted out of renewing: a session the fake ends stays ended (renew_test.go renews).
		c, err := New(context.Background(), Config{Members: f.urls(), RequestTimeout: time.Second, Calls: "first", RenewSessions: Bool(false)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		out = append(out, c)
	}
	return f, out[0], out[1]
}

func TestWatchTellsTheStateThenEveryChangeInOrder(t *testing.T) {
	f, c, other := watchClients(t, 1)
	ctx := context.Background()
	held := mustLock(t, ctx, other, "jobs/a")
	w := mustWatch(t, ctx, c, WatchLock("jobs/a"))
	if st := nextEvent(t, w); st.Type != WatchState || !reflect.DeepEqual(st.Holders(), []int64{held.FencingToken()}) {
		t.Fatalf("state %+v", st)
	}
	_ = held.Release()
	second := mustLock(t, ctx, other, "jobs/a")
	if l, err := other.Lock(ctx, "jobs/b"); err == nil { // another lock: not told
		_ = l.Release()
	}
	f.revoke("jobs/a", true)
	var got []string
	var last WatchEvent
	for i := 0; i < 3; i++ {
		last = nextEvent(t, w)
		got = append(got, string(last.Type)+" "+last.Cause)
		if want := []int64{held.FencingToken(), second.FencingToken(), second.FencingToken()}[i]; last.Token != want {
			t.Fatalf("event %d: token %d, want %d", i, last.Token, want)
		}
	}
	if want := []string{"released released", "acquired ", "released revoked"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if w.Position() != last.Position {
		t.Fatalf("position %q, last event at %q", w.Position(), last.Position)
	}
	w.Close()
	if _, ok := <-w.Events(); ok {
		t.Fatal("an event after Close")
	}
	if w.Err() != nil {
		t.Fatalf("Err after Close: %v", w.Err())
	}
}

func TestWatchAPrefixAndARegister(t *testing.T) {
	_, c, other := watchClients(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	jobs := mustWatch(t, ctx, c, WatchPrefix("jobs/"))
	reg := mustWatch(t, ctx, c, WatchRegister("cfg/x"))
	if st := nextEvent(t, jobs); st.Type != WatchState || len(st.Locks) != 0 {
		t.Fatalf("prefix state %+v", st)
	}
	if st := nextEvent(t, reg); st.Type != WatchState || st.Version != 0 || st.Value != nil {
		t.Fatalf("register state %+v", st)
	}
	if _, err := other.Lock(ctx, "other/x"); err != nil {
		t.Fatal(err)
	}
	a := mustLock(t, ctx, other, "jobs/a")
	if e := nextEvent(t, jobs); e.Type != WatchAcquired || e.Name != "jobs/a" || e.Token != a.FencingToken() || e.SessionID != other.SessionID() {
		t.Fatalf("event %+v", e)
	}
	if _, err := other.Register("cfg/x").CompareAndSet(ctx, 0, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if e := nextEvent(t, reg); e.Type != WatchRegisterSet || e.Version != 1 || string(e.Value) != "one" {
		t.Fatalf("event %+v", e)
	}
	cancel()
	if _, ok := <-reg.Events(); ok {
		t.Fatal("an event after the context ended")
	}
	if !errors.Is(reg.Err(), context.Canceled) {
		t.Fatalf("Err %v, want the context's", reg.Err())
	}
}

func TestWatchMovesToAnotherMemberFromItsPositionWithoutANewState(t *testing.T) {
	f, c, other := watchClients(t, 2)
	ctx := context.Background()
	w := mustWatch(t, ctx, c, WatchLock("jobs/m"))
	nextOfType(t, w, WatchState)
	first := mustLock(t, ctx, other, "jobs/m")
	if e := nextEvent(t, w); e.Token != first.FencingToken() {
		t.Fatalf("event %+v", e)
	}
	f.mu.Lock()
	f.down[0] = true // the member it reads from dies; node 1 leads
	f.leader = 1
	f.mu.Unlock()
	_ = first.Release()
	second := mustLock(t, ctx, other, "jobs/m")
	if e := nextEvent(t, w); e.Type != WatchReleased || e.Token != first.FencingToken() {
		t.Fatalf("after the move: %+v", e)
	}
	if e := nextEvent(t, w); e.Type != WatchAcquired || e.Token != second.FencingToken() {
		t.Fatalf("after the move: %+v", e)
	}
}

func TestWatchGapGivesAFreshState(t *testing.T) {
	f, c, other := watchClients(t, 1)
	ctx := context.Background()
	w := mustWatch(t, ctx, c, WatchLock("jobs/g"))
	nextEvent(t, w)
	held := mustLock(t, ctx, other, "jobs/g")
	nextOfType(t, w, WatchAcquired)
	f.forgetChanges()
	if st := nextEvent(t, w); st.Type != WatchState || !reflect.DeepEqual(st.Holders(), []int64{held.FencingToken()}) {
		t.Fatalf("after the gap: %+v", st)
	}
}

func TestWatchRefusedAndClientClosed(t *testing.T) {
	_, c, _ := watchClients(t, 1)
	ctx := context.Background()
	w := mustWatch(t, ctx, c, WatchLock("secret/x"))
	if _, ok := <-w.Events(); ok {
		t.Fatal("an event of a refused watch")
	}
	if !errors.Is(w.Err(), ErrPermissionDenied) {
		t.Fatalf("Err %v", w.Err())
	}
	for _, bad := range []WatchTarget{WatchLock(""), WatchRegister(""), {}} {
		if _, err := c.Watch(ctx, bad); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("%v: %v", bad, err)
		}
	}
	v := mustWatch(t, ctx, c, WatchLock("jobs/d"))
	nextEvent(t, v)
	start := time.Now()
	_ = c.Close() // waits for the watch's goroutine: its long poll is aborted
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if _, ok := <-v.Events(); ok {
		t.Fatal("an event after the client closed")
	}
	if !errors.Is(v.Err(), ErrSessionExpired) {
		t.Fatalf("Err %v", v.Err())
	}
	if _, err := c.Watch(ctx, WatchLock("jobs/d")); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("watch after close: %v", err)
	}
}

func TestAwaitFree(t *testing.T) {
	_, c, other := watchClients(t, 1)
	ctx := context.Background()
	if free, err := c.AwaitFree(ctx, "jobs/f", 0); err != nil || !free {
		t.Fatalf("free lock: %v %v", free, err)
	}
	held := mustLock(t, ctx, other, "jobs/f")
	start := time.Now()
	if free, err := c.AwaitFree(ctx, "jobs/f", 300*time.Millisecond); err != nil || free {
		t.Fatalf("held lock: %v %v", free, err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("returned after %v", d)
	}
	time.AfterFunc(300*time.Millisecond, func() { _ = held.Release() })
	start = time.Now()
	if free, err := c.AwaitFree(ctx, "jobs/f", 5*time.Second); err != nil || !free {
		t.Fatalf("released lock: %v %v", free, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("told after %v", d)
	}
	if _, err := c.AwaitFree(ctx, "secret/f", time.Second); !errors.Is(err, ErrPermissionDenied) || !strings.Contains(err.Error(), "secret/f") {
		t.Fatalf("refused: %v", err)
	}
}
