package holdfast

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// electionFake is three members in an election: each answers 503 NOT_LEADER
// naming no leader, until elect makes the third lead. It records when each
// try of the call was sent.
type electionFake struct {
	mu      sync.Mutex
	urls    []string
	started time.Time
	elected time.Time // zero while nobody leads
	tries   []electionTry
}

type electionTry struct {
	at     time.Duration // since started
	member int
}

func newElectionFake(t *testing.T) *electionFake {
	f := &electionFake{started: time.Now()}
	for i := 0; i < 3; i++ {
		i := i
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			f.tries = append(f.tries, electionTry{time.Since(f.started), i})
			leads := i == 2 && !f.elected.IsZero()
			f.mu.Unlock()
			if leads {
				writeJSON(w, 200, map[string]any{})
				return
			}
			e := errBody("NOT_LEADER", "no leader yet")
			e["error"].(map[string]any)["leader"] = nil
			writeJSON(w, 503, e)
		}))
		t.Cleanup(s.Close)
		f.urls = append(f.urls, s.URL)
	}
	return f
}

func (f *electionFake) elect() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.elected = time.Now()
}

func (f *electionFake) call(deadline time.Duration) (answer, error) {
	tr := newTransport(f.urls, 0, pickFirst, "", nil)
	defer tr.close()
	return tr.call(context.Background(), request{method: "POST", path: "/api/v1/x", body: func() any { return map[string]any{} },
		attemptTimeout: time.Second, deadline: time.Now().Add(deadline), member: -1})
}

func TestElectionIsFollowedWithShortPauses(t *testing.T) {
	f := newElectionFake(t)
	time.AfterFunc(500*time.Millisecond, f.elect)
	a, err := f.call(5 * time.Second)
	found := time.Now()
	if err != nil || a.status != 200 || a.member != 2 {
		t.Fatalf("answer %+v, err %v", a, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// the ordinary backoff (50 ms doubling to 1 s, one member a pause) reaches
	// the third member again only after five pauses, 775 ms at the least: 275
	// ms after the election
	if d := found.Sub(f.elected); d > 300*time.Millisecond {
		t.Fatalf("found the new leader %v after its election", d)
	}
	if len(f.tries) < 3 || f.tries[0].member != 0 || f.tries[1].member != 1 || f.tries[2].member != 2 {
		t.Fatalf("the first round, without pauses: %v", f.tries)
	}
	// rounds of three, at least 10 ms apart (50 ms from the fourth): no busy loop
	if len(f.tries) > 75 {
		t.Fatalf("%d tries", len(f.tries))
	}
}

func TestLeaderSearchEndsAfter3s(t *testing.T) {
	f := newElectionFake(t)
	_, err := f.call(5 * time.Second)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeUnavailable {
		t.Fatalf("err %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var during, after []time.Duration
	longestDuring, longestAfter := time.Duration(0), time.Duration(0)
	for i := 1; i < len(f.tries); i++ {
		at, gap := f.tries[i].at, f.tries[i].at-f.tries[i-1].at
		if at < 2900*time.Millisecond {
			during = append(during, gap)
			if gap > longestDuring {
				longestDuring = gap
			}
		} else if at > 3200*time.Millisecond {
			after = append(after, gap)
			if gap > longestAfter {
				longestAfter = gap
			}
		}
	}
	// the ordinary backoff would have tried 10 times at most by 2.9 s, its
	// sixth pause 500 ms or more
	if len(during) < 3*20 || longestDuring > 400*time.Millisecond {
		t.Fatalf("pauses while the search lasts: %v", during)
	}
	// the ordinary backoff starts again from 50 ms: its fifth pause (at least 400 ms) ends by 4.7 s
	if longestAfter < 350*time.Millisecond {
		t.Fatalf("pauses once the search is over: %v", after)
	}
}

func TestLeaderSearchPauses(t *testing.T) {
	var s leaderSearch
	now := time.Now()
	start := now
	var pauses []time.Duration
	for {
		d, ok := s.pause(now)
		if !ok {
			break
		}
		pauses = append(pauses, d)
		now = now.Add(d + 3*time.Millisecond) // a round of three quick answers
	}
	for i, d := range pauses {
		if d < 10*time.Millisecond || d > 100*time.Millisecond || (i >= 3 && d < 50*time.Millisecond) {
			t.Fatalf("20, 40, 80, then 100 ms, halved at most: %v", pauses)
		}
	}
	if took := now.Sub(start); took > searchLength+3*time.Millisecond || took < 2800*time.Millisecond {
		t.Fatalf("searched for %v", took)
	}
	if _, ok := s.pause(now.Add(time.Second)); ok {
		t.Fatalf("over for good")
	}
}

// A member that answers 503 UNAVAILABLE or 504 TIMEOUT (cut off from its
// majority, or still starting) is not asked again before the others: the call
// goes at once to another member (here member 1: the home 0 moves to the first
// other member), as the Python and Node clients do.
func TestUnavailableOrTimeoutMovesOnToTheNextMember(t *testing.T) {
	for _, answer := range []struct {
		status int
		code   string
	}{{503, "UNAVAILABLE"}, {504, "TIMEOUT"}} {
		m := newRecordingMembers(3, func(w http.ResponseWriter, i int) {
			if i == 0 {
				writeJSON(w, answer.status, errBody(answer.code, "no majority answers"))
				return
			}
			writeJSON(w, 200, map[string]any{})
		})
		t.Cleanup(m.close)
		urls := m.urls
		tr := newTransport(urls, 0, pickFirst, "", nil)
		start := time.Now()
		a, err := tr.call(context.Background(), request{method: "POST", path: "/api/v1/x",
			body: func() any { return map[string]any{} }, attemptTimeout: time.Second,
			deadline: time.Now().Add(5 * time.Second), member: -1})
		took := time.Since(start)
		tr.close()
		tries := m.tries()
		if err != nil || a.status != 200 || a.member != 1 {
			t.Fatalf("%d %s: answer %+v, err %v", answer.status, answer.code, a, err)
		}
		// before, the first member was asked again after a pause of 25 to 50 ms
		if len(tries) != 2 || tries[0] != 0 || tries[1] != 1 {
			t.Fatalf("%d %s: tries %v, want [0 1]", answer.status, answer.code, tries)
		}
		if took > 2*time.Second {
			t.Fatalf("%d %s: took %v", answer.status, answer.code, took)
		}
	}
}

// fakeClock is a Clock that moves only when the code waits on it: each timer
// moves it by its whole duration at once, and fires.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	f.waits = append(f.waits, d)
	fired := make(chan time.Time, 1)
	fired <- f.now
	return firedTimer{fired}
}

type firedTimer struct{ c chan time.Time }

func (t firedTimer) C() <-chan time.Time { return t.c }

func (firedTimer) Stop() bool { return false }

// A member that refuses every connection: the call goes round it, pausing on
// the client's clock, until the deadline passes on that clock; ten minutes of
// it take no ten minutes of real time.
func TestACallGivesUpWhenItsDeadlinePassesOnTheClientsClock(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusing := "http://" + l.Addr().String()
	l.Close()
	tr := newTransport([]string{refusing}, 0, pickFirst, "", nil)
	defer tr.close()
	start := time.Unix(1_000_000, 0)
	clock := &fakeClock{now: start}
	tr.clock = clock
	began := time.Now()
	_, err = tr.call(context.Background(), request{
		method:         "POST",
		path:           "/api/v1/sessions",
		body:           func() any { return struct{}{} },
		attemptTimeout: time.Second,
		deadline:       start.Add(10 * time.Minute),
		member:         -1,
	})
	if !isCode(err, CodeUnavailable) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("want UNAVAILABLE naming the refused connection, got %v", err)
	}
	if passed := clock.Now().Sub(start); passed < 10*time.Minute {
		t.Fatalf("gave up after %v of the clock, before its deadline", passed)
	}
	if len(clock.waits) < 100 || clock.waits[0] > 50*time.Millisecond {
		t.Fatalf("the pauses between rounds were not the clock's: %d of them, %v", len(clock.waits), clock.waits[:1])
	}
	if real := time.Since(began); real > 30*time.Second {
		t.Fatalf("ten minutes of the clock took %v of real time", real)
	}
}

// TestAnAnswerLargerThanTheClientTakesIsAQuotaErrorNamingTheLimit: an answer
// of more than maxAnswerBytes (a page of a server that does not end pages at
// 1 MiB) is a final QUOTA_EXCEEDED naming the limit, not a truncated body
// read as JSON, and not retried elsewhere as an outage.
func TestAnAnswerLargerThanTheClientTakesIsAQuotaErrorNamingTheLimit(t *testing.T) {
	calls := 0
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[],"pad":"` + strings.Repeat("x", maxAnswerBytes) + `"}`))
	}))
	defer s.Close()
	tr := newTransport([]string{s.URL}, 0, pickFirst, "", nil)
	a, err := tr.call(context.Background(), request{method: "GET", path: "/api/v1/keys", attemptTimeout: 5 * time.Second,
		deadline: time.Now().Add(10 * time.Second), member: -1})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := parseError(a.status, a.body)
	if a.status != 413 || e.Code != CodeQuotaExceeded || !strings.Contains(e.Message, "larger than this client accepts (8388608 bytes)") {
		t.Fatalf("answer %d %+v", a.status, e)
	}
	if calls != 1 {
		t.Fatalf("asked %d times: a refusal is final", calls)
	}
}

// recordingMembers are httptest servers standing for members, each answering
// with answer(w, its index) and recording the index of every request it got.
type recordingMembers struct {
	urls    []string
	servers []*httptest.Server
	mu      sync.Mutex
	got     []int
}

func newRecordingMembers(n int, answer func(w http.ResponseWriter, i int)) *recordingMembers {
	m := &recordingMembers{}
	for i := 0; i < n; i++ {
		i := i
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.mu.Lock()
			m.got = append(m.got, i)
			m.mu.Unlock()
			answer(w, i)
		}))
		m.servers = append(m.servers, s)
		m.urls = append(m.urls, s.URL)
	}
	return m
}

// tries is a copy of the indexes of the members asked, in order.
func (m *recordingMembers) tries() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int(nil), m.got...)
}

// close stops every member, waiting for the requests they are answering.
func (m *recordingMembers) close() {
	for _, s := range m.servers {
		s.Close()
	}
}
