package holdfast

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	backoffStart = 50 * time.Millisecond
	backoffMax   = time.Second
	// searchStart and searchMax bound the pauses of a leader search, and
	// searchLength its length (leaderSearch).
	searchStart  = 20 * time.Millisecond
	searchMax    = 100 * time.Millisecond
	searchLength = 3 * time.Second
	// maxAnswerBytes bounds what is read of one answer.
	maxAnswerBytes = 8 << 20
)

// transport sends requests to the members, first to its home: the member the
// client sends to (every member serves a session: a follower relays
// heartbeats and forwards writes and waits to the leader). The home is picked
// at random among the members given, so that a fleet spreads over them
// (Config.Calls "first": the first one listed), and moves only when it fails
// the client: on a broken connection, a timeout, 502, 503 or 504, to another
// member picked as the first one was (Calls "first": the next one listed
// after the failed one), so that the clients of a member that dies
// spread over the others; to the leader a 503 NOT_LEADER of the home names (a member that does
// not serve the call, such as one of an older build). A call that succeeds
// elsewhere, or a change of leader, does not move it. A call learns member ids
// from each address's GET /status, goes to the member a 503 NOT_LEADER names,
// and moves at once to the home, if the home moved to an address not tried
// yet in this round, else to the next address after it not tried yet, on a
// broken connection, a timeout, 503 UNAVAILABLE, 504, or while no leader is
// known (as the Python and Node clients do).
// Once every address has been tried it goes round them again after a pause:
// while members answer NOT_LEADER (an election), a leaderSearch pause (20 ms
// doubling to 100 ms, for up to 3 s), otherwise a backoff (50 ms doubling to
// 1 s); both with jitter.
type transport struct {
	members []string
	bearer  string
	http    *http.Client
	logf    func(string, ...any)
	clock   Clock        // the client's one clock (see clock.go)
	spawn   func(func()) // starts the client's background work (see background.go)

	// pick picks a home among n candidates, an index in [0, n): the first
	// one listed for Calls "first", else Config.Rand's or crypto/rand's
	// (see homePicker); called with mu held, from one goroutine at a time.
	pick func(n int) int

	mu   sync.Mutex
	home int            // index of the home: the member this client sends to
	ids  map[string]int // member id -> index, from GET /status
}

// newTransport makes a transport whose home is member home, and whose home,
// when it fails, moves to another member picked with pick (see rotate).
func newTransport(members []string, home int, pick func(int) int, bearer string, logf func(string, ...any)) *transport {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     60 * time.Second,
	}
	return &transport{
		members: members,
		bearer:  bearer,
		http:    &http.Client{Transport: tr},
		logf:    logf,
		clock:   systemClock{},
		spawn:   goroutine,
		pick:    pick,
		home:    home,
		ids:     make(map[string]int),
	}
}

func (t *transport) close() {
	t.http.CloseIdleConnections()
}

// homeIndex is the home: the member this client sends to.
func (t *transport) homeIndex() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.home
}

// rotate moves the home away from member m, which failed a call (if the home
// is still m): to another member picked as the first home was among the
// others, counted on from the one after m ((m + 1 + pick(n-1)) % n): at
// random, so that the clients of a member that dies spread over the others
// instead of all moving to its successor; Calls "first": the next one listed
// (the first after the last), so that members that fail in turn walk the
// home down the list.
func (t *transport) rotate(m int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.members)
	if t.home != m || n < 2 {
		return
	}
	k := pickIn(t.pick, n-1) // one of the others, counted on from the one after m
	t.home = (m + 1 + k) % n
}

// moveHome moves the home to member to, which member from named as the
// leader (if the home is still from).
func (t *transport) moveHome(from, to int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.home == from {
		t.home = to
	}
}

// answer is one HTTP answer.
type answer struct {
	status int
	body   []byte
	sentAt time.Time // when the attempt that got this answer was sent
	member int
}

// send makes one attempt at member m, with a timeout: the network's, in
// real time (see clock.go); deadlines and pauses are the client's clock's.
func (t *transport) send(ctx context.Context, m int, method, path string, body []byte, timeout time.Duration) (answer, error) {
	actx, cancel := attemptContext(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, t.members[m]+path, rd)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if t.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+t.bearer)
	}
	sent := t.clock.Now()
	resp, err := t.http.Do(req)
	if err != nil {
		return answer{}, describeNetError(err, timeout)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return answer{}, describeNetError(err, timeout)
	}
	if len(data) > maxAnswerBytes {
		return tooLarge(t.members[m], sent, m), nil
	}
	return answer{status: resp.StatusCode, body: data, sentAt: sent, member: m}, nil
}

// tooLarge stands for an answer longer than maxAnswerBytes: a final
// QUOTA_EXCEEDED naming the limit (a refusal of that call alone, not an
// outage), as if the member had answered it.
func tooLarge(member string, sent time.Time, m int) answer {
	body, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code": CodeQuotaExceeded,
		"message": fmt.Sprintf("an answer from %s is larger than this client accepts (%d bytes)",
			member, maxAnswerBytes),
	}})
	return answer{status: 413, body: body, sentAt: sent, member: m}
}

// describeNetError shortens a transport error to its cause:
// "connection refused", "no answer within 5s", "connection closed", …
func describeNetError(err error, timeout time.Duration) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Errorf("no answer within %v", timeout)
	case errors.Is(err, context.Canceled):
		return context.Canceled
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("connection refused")
	case errors.Is(err, syscall.ECONNRESET):
		return errors.New("connection reset")
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("connection closed before the answer")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return errors.New(oneLine(err.Error()))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// request describes a call to retry until its deadline.
type request struct {
	method string
	path   string
	// body builds the JSON body for each attempt (so that ackedBelow is
	// fresh); nil for none.
	body func() any
	// attemptTimeout bounds each HTTP attempt.
	attemptTimeout time.Duration
	// deadline bounds the whole call (all attempts and backoffs).
	deadline time.Time
	// member, when >= 0, is where to send instead of the home; the call
	// still moves on to other members after a failure.
	member int
}

// call sends req, first to the home, until a final answer comes (anything but a
// broken connection, a timeout, 503 or 504) or the deadline passes. It
// returns the final answer (which may be an error status), an *Error of code
// UNAVAILABLE naming the last cause when the deadline passed, or ctx.Err()
// when ctx ended.
func (t *transport) call(ctx context.Context, req request) (answer, error) {
	backoff := backoffStart
	var search leaderSearch
	lastCause := "no attempt was made"
	tried := make(map[int]bool, len(t.members)) // the members that could not serve the call in this round
	notLeader := false                          // whether one of them answered NOT_LEADER
	m := req.member
	if m < 0 {
		m = t.homeIndex()
	}
	for {
		if err := ctx.Err(); err != nil {
			return answer{}, err
		}
		remaining := req.deadline.Sub(t.clock.Now())
		if remaining <= 0 {
			return answer{}, unavailable("cannot reach any member (%s)", lastCause)
		}
		timeout := req.attemptTimeout
		if timeout > remaining {
			timeout = remaining
		}
		var body []byte
		if req.body != nil {
			var err error
			if body, err = json.Marshal(req.body()); err != nil {
				return answer{}, invalidArgument("cannot encode the request: %v", err)
			}
		}
		a, err := t.send(ctx, m, req.method, req.path, body, timeout)
		if err != nil {
			if ctx.Err() != nil {
				return answer{}, ctx.Err()
			}
			lastCause = t.members[m] + ": " + err.Error()
			t.debug("%s %s: %s", req.method, req.path, lastCause)
		} else {
			if !retryable(a.status) {
				return a, nil
			}
			e, leader := parseError(a.status, a.body)
			lastCause = fmt.Sprintf("%s: %d %s: %s", t.members[m], a.status, e.Code, e.Message)
			t.debug("%s %s: %s", req.method, req.path, lastCause)
			// 503 UNAVAILABLE or 504 TIMEOUT (a member cut off from its
			// majority, or still starting) moves on to the next member, as a
			// broken connection does; NOT_LEADER naming a leader goes to it.
			if a.status == 503 && e.Code == CodeNotLeader {
				notLeader = true
				if leader != "" {
					if idx := t.lookup(ctx, leader); idx >= 0 && idx != m && !tried[idx] {
						tried[m] = true
						t.moveHome(m, idx)
						m = idx
						continue // straight to the leader
					}
				}
			}
		}
		// A broken connection, a timeout, 503 UNAVAILABLE, 504, or no leader
		// known (an election): the next address not tried yet in this round.
		tried[m] = true
		t.rotate(m)
		m = t.homeIndex()
		if len(tried) < len(t.members) {
			for tried[m] {
				m = (m + 1) % len(t.members)
			}
			continue
		}
		// Every address has been tried: the next round, after a pause.
		pause, searching := time.Duration(0), false
		if notLeader {
			pause, searching = search.pause(t.clock.Now())
		}
		if !searching {
			pause = jitter(backoff)
			backoff = grow(backoff)
		}
		for i := range tried {
			delete(tried, i)
		}
		notLeader = false
		t.sleep(ctx, pause, req.deadline)
		m = t.homeIndex()
	}
}

// leaderSearch paces one call's rounds of the members while they answer
// NOT_LEADER without naming a leader: a leader is being elected, and the call
// should reach it within about 100 ms of its election. Its pauses are 20 ms
// doubling to 100 ms, with jitter, for at most searchLength from the end of
// the first such round; after that the ordinary backoff applies.
type leaderSearch struct {
	started time.Time     // when its first round ended; zero before
	next    time.Duration // the next pause, before jitter
	over    bool
}

// pause is the pause before the next round, after a round that ended at now
// in which a member answered NOT_LEADER; false once the search would outlast
// searchLength.
func (s *leaderSearch) pause(now time.Time) (time.Duration, bool) {
	if s.over {
		return 0, false
	}
	if s.started.IsZero() {
		s.started, s.next = now, searchStart
	}
	d := jitter(s.next)
	if s.next *= 2; s.next > searchMax {
		s.next = searchMax
	}
	if now.Add(d).Sub(s.started) > searchLength {
		s.over = true
		return 0, false
	}
	return d, true
}

// lookup returns the index of the member with this id, asking every
// address's GET /status when the id is not known yet; -1 if none says it.
func (t *transport) lookup(ctx context.Context, id string) int {
	t.mu.Lock()
	idx, ok := t.ids[id]
	t.mu.Unlock()
	if ok {
		return idx
	}
	t.learnIDs(ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	if idx, ok := t.ids[id]; ok {
		return idx
	}
	return -1
}

// learnIDs asks every address for its member id, at once.
func (t *transport) learnIDs(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range t.members {
		i := i
		wg.Add(1)
		t.spawn(func() {
			defer wg.Done()
			a, err := t.send(ctx, i, "GET", "/status", nil, time.Second)
			if err != nil || a.status != 200 {
				return
			}
			var st struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(a.body, &st) == nil && st.ID != "" {
				t.mu.Lock()
				t.ids[st.ID] = i
				t.mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func (t *transport) debug(format string, args ...any) {
	if t.logf != nil {
		t.logf(format, args...)
	}
}

// sleep waits d of the client's clock (cut short by the deadline); false if
// ctx ended first.
func (t *transport) sleep(ctx context.Context, d time.Duration, deadline time.Time) bool {
	if left := deadline.Sub(t.clock.Now()); left < d {
		d = left
	}
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := t.clock.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C():
		return true
	case <-ctx.Done():
		return false
	}
}

func grow(d time.Duration) time.Duration {
	d *= 2
	if d > backoffMax {
		d = backoffMax
	}
	return d
}

// normalizeMembers trims the addresses, adds http:// when no scheme is
// given, and drops trailing slashes.
func normalizeMembers(in []string) ([]string, error) {
	var out []string
	for _, m := range in {
		for _, part := range strings.Split(m, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if !strings.Contains(part, "://") {
				part = "http://" + part
			}
			u, err := url.Parse(part)
			if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
				return nil, invalidArgument("member address %q is not an http(s) base URL", part)
			}
			out = append(out, strings.TrimRight(part, "/"))
		}
	}
	if len(out) == 0 {
		return nil, invalidArgument("no member addresses given")
	}
	return out, nil
}

// escapePath escapes each /-separated segment of a name for a URL path.
func escapePath(name string) string {
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
