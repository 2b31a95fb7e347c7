package holdfast

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// offlineClient is a client with an open session and no background
// goroutines; its only member answers GET /api/v1/fence from current.
func offlineClient(t *testing.T, current map[leaseKey]bool) *Client {
	t.Helper()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/keepalive") {
			w.WriteHeader(410)
			_, _ = w.Write([]byte(`{"error":{"code":"SESSION_EXPIRED","message":"session gone"}}`))
			return
		}
		if r.URL.Path != "/api/v1/fence" {
			w.WriteHeader(404)
			return
		}
		var tok int64
		_ = json.Unmarshal([]byte(r.URL.Query().Get("token")), &tok)
		mu.Lock()
		cur := current[leaseKey{r.URL.Query().Get("name"), tok}]
		mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"name": r.URL.Query().Get("name"), "token": tok, "current": cur})
	}))
	t.Cleanup(srv.Close)
	c, err := newClient(Config{Members: []string{srv.URL}, RequestTimeout: time.Second, RenewSessions: Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	s := &session{id: "testsession0000000000000", ledger: newLedger(), leases: map[leaseKey]*Lease{}, lostSeen: map[leaseKey]LossReason{}}
	s.ctx, s.cancel = context.WithCancel(c.life)
	c.cur, c.lastID, c.ownIDs = s, s.id, []string{s.id}
	t.Cleanup(func() { c.cancel(); c.tr.close() })
	return c
}

// held makes a lease as if its grant had been answered at receivedAt.
func held(c *Client, name string, token int64, receivedAt time.Time, lost chan<- LossReason) *Lease {
	o := buildOptions([]LockOption{OnLost(func(l *Lease, r LossReason) { lost <- r })})
	l := c.adopt(c.cur, name, token, o, answer{sentAt: receivedAt})
	l.receivedAt = receivedAt
	return l
}

func page(t *testing.T, js string) *eventPage {
	t.Helper()
	var p eventPage
	if err := json.Unmarshal([]byte(js), &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

func wantLoss(t *testing.T, ch <-chan LossReason, want LossReason) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("loss reason %q, want %q", got, want)
		}
	case <-time.After(time.Second):
		t.Fatalf("no loss reported (want %q)", want)
	}
}

func wantNoLoss(t *testing.T, ch <-chan LossReason) {
	t.Helper()
	select {
	case got := <-ch:
		t.Fatalf("unexpected loss %q", got)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestLostEventMarksTheMatchingLease(t *testing.T) {
	c := offlineClient(t, nil)
	lost := make(chan LossReason, 4)
	a := held(c, "jobs/a", 17, time.Now(), lost)
	b := held(c, "jobs/b", 18, time.Now(), lost)
	ok := c.handlePage(c.cur, page(t, `{"sessionId":"s","gap":false,"next":"12.0","events":[
		{"type":"granted","position":"10.0","name":"jobs/x","token":3,"requestId":4},
		{"type":"lost","position":"11.0","name":"jobs/a","token":16,"reason":"revoked"},
		{"type":"lost","position":"12.0","name":"jobs/a","token":17,"reason":"revoked"}]}`), time.Now())
	if !ok {
		t.Fatal("the session must go on")
	}
	wantLoss(t, lost, LossRevoked)
	wantNoLoss(t, lost)
	if a.Valid() || !b.Valid() {
		t.Fatalf("valid: a=%v b=%v, want false true", a.Valid(), b.Valid())
	}
	select {
	case <-a.Lost():
	default:
		t.Fatal("Lost() not closed")
	}
	if a.Reason() != LossRevoked || !isCode(a.Err(), CodeLockLost) || b.Err() != nil {
		t.Fatalf("reason %q err %v / %v", a.Reason(), a.Err(), b.Err())
	}
	// A second report of the same loss calls nothing again.
	c.lostEvent(c.cur, "jobs/a", 17, LossLeaseTimeout)
	wantNoLoss(t, lost)
	if a.Reason() != LossRevoked {
		t.Fatalf("reason changed to %q", a.Reason())
	}
}

func TestLossBeforeTheGrantIsAdopted(t *testing.T) {
	c := offlineClient(t, nil)
	c.handlePage(c.cur, page(t, `{"next":"5.0","events":[{"type":"lost","position":"5.0","name":"n","token":9,"reason":"leaseTimeout"}]}`), time.Now())
	lost := make(chan LossReason, 1)
	l := held(c, "n", 9, time.Now(), lost)
	wantLoss(t, lost, LossLeaseTimeout)
	if l.Valid() {
		t.Fatal("a grant lost before its answer must not be valid")
	}
}

func TestUnknownReasonIsUnknown(t *testing.T) {
	if parseReason("somethingNew") != LossUnknown || parseReason("sessionExpired") != LossSessionExpired {
		t.Fatal("parseReason")
	}
}

func TestSessionExpiredEventExpiresEverything(t *testing.T) {
	for _, typ := range []string{"sessionExpired", "sessionClosed"} {
		c := offlineClient(t, nil)
		lost := make(chan LossReason, 2)
		a := held(c, "a", 1, time.Now(), lost)
		b := held(c, "b", 2, time.Now(), lost)
		if c.handlePage(c.cur, page(t, `{"next":"3.0","events":[{"type":"`+typ+`","position":"3.0"}]}`), time.Now()) {
			t.Fatalf("%s: the stream must stop", typ)
		}
		wantLoss(t, lost, LossSessionExpired)
		wantLoss(t, lost, LossSessionExpired)
		if a.Valid() || b.Valid() || !isCode(c.Err(), CodeSessionExpired) {
			t.Fatalf("%s: a=%v b=%v err=%v", typ, a.Valid(), b.Valid(), c.Err())
		}
		if _, err := c.Lock(context.Background(), "x"); !isCode(err, CodeSessionExpired) {
			t.Fatalf("%s: Lock after expiry: %v", typ, err)
		}
		if err := a.Release(); err != nil {
			t.Fatalf("release after loss: %v", err)
		}
	}
}

func TestGapLosesWhatStateDoesNotHold(t *testing.T) {
	pollSent := time.Now()
	before := pollSent.Add(-time.Second)
	// "c" is missing from holds but the leader says its token is current
	// (a lagging member): not lost.
	c := offlineClient(t, map[leaseKey]bool{{"c", 30}: true})
	lost := make(chan LossReason, 4)
	kept := held(c, "a", 10, before, lost)
	gone := held(c, "b", 20, before, lost)
	lagging := held(c, "c", 30, before, lost)
	fresh := held(c, "d", 40, pollSent.Add(time.Millisecond), lost) // answered after the poll was sent
	other := held(c, "e", 50, before, lost)                         // listed with another token: lost
	ok := c.handlePage(c.cur, page(t, `{"sessionId":"s","gap":true,"next":"812.0","events":[],
		"state":{"exists":true,
		  "holds":[{"name":"a","token":10,"mode":"exclusive","permits":1},{"name":"e","token":49,"mode":"exclusive","permits":1}],
		  "waits":[{"name":"orders/7","requestId":9}]}}`), pollSent)
	if !ok {
		t.Fatal("the session exists")
	}
	wantLoss(t, lost, LossUnknown)
	wantLoss(t, lost, LossUnknown)
	wantNoLoss(t, lost)
	if !kept.Valid() || gone.Valid() || !lagging.Valid() || !fresh.Valid() || other.Valid() {
		t.Fatalf("valid: a=%v b=%v c=%v d=%v e=%v, want true false true true false",
			kept.Valid(), gone.Valid(), lagging.Valid(), fresh.Valid(), other.Valid())
	}
	if gone.Reason() != LossUnknown {
		t.Fatalf("reason %q", gone.Reason())
	}
}

func TestGapWithoutSessionExpires(t *testing.T) {
	c := offlineClient(t, nil)
	lost := make(chan LossReason, 1)
	l := held(c, "a", 1, time.Now().Add(-time.Second), lost)
	if c.handlePage(c.cur, page(t, `{"gap":true,"next":"9.0","events":[],"state":{"exists":false,"holds":[],"waits":[]}}`), time.Now()) {
		t.Fatal("the stream must stop")
	}
	wantLoss(t, lost, LossSessionExpired)
	if l.Valid() || !isCode(c.Err(), CodeSessionExpired) {
		t.Fatal("the session must be expired")
	}
}

func TestMissingFromState(t *testing.T) {
	c := offlineClient(t, nil)
	now := time.Now()
	lost := make(chan LossReason, 4)
	l1 := held(c, "x", 1, now.Add(-time.Second), lost)
	l2 := held(c, "y", 2, now.Add(-time.Second), lost)
	l3 := held(c, "z", 3, now.Add(time.Second), lost)
	var st sessionState
	_ = json.Unmarshal([]byte(`{"exists":true,"holds":[{"name":"x","token":1}]}`), &st)
	got := missingFromState([]*Lease{l1, l2, l3}, &st, now)
	if len(got) != 1 || got[0] != l2 {
		t.Fatalf("missing %v, want [y]", got)
	}
}

func TestCancelAnswerGrants(t *testing.T) {
	var a cancelAnswer
	_ = json.Unmarshal([]byte(`{"name":"x","cancelled":false,"token":8}`), &a)
	if g := a.grants("x", []string{"x"}); len(g) != 1 || g[0] != (leaseKey{"x", 8}) {
		t.Fatalf("%v", g)
	}
	a = cancelAnswer{}
	_ = json.Unmarshal([]byte(`{"name":"a","cancelled":false,"tokens":[6,7]}`), &a)
	if g := a.grants("a", []string{"a", "b"}); len(g) != 2 || g[1] != (leaseKey{"b", 7}) {
		t.Fatalf("%v", g)
	}
	a = cancelAnswer{}
	_ = json.Unmarshal([]byte(`{"name":"a","cancelled":false}`), &a)
	if g := a.grants("a", []string{"a", "b"}); len(g) != 0 {
		t.Fatalf("%v", g)
	}
}
