package holdfast

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// WatchTarget says what a watch follows: one lock, every lock whose name
// starts with a prefix, one register, or every key whose name starts with a
// prefix.
type WatchTarget struct {
	kind string // "lock", "prefix", "register" or "keys": the route's query parameter
	name string
}

// WatchLock follows one lock.
func WatchLock(name string) WatchTarget { return WatchTarget{"lock", name} }

// WatchPrefix follows every lock whose name starts with prefix ("" for all).
func WatchPrefix(prefix string) WatchTarget { return WatchTarget{"prefix", prefix} }

// WatchRegister follows one register.
func WatchRegister(key string) WatchTarget { return WatchTarget{"register", key} }

// WatchKeys follows every key whose name starts with prefix ("" for all).
func WatchKeys(prefix string) WatchTarget { return WatchTarget{"keys", prefix} }

// Kind is "lock", "prefix", "register" or "keys".
func (t WatchTarget) Kind() string { return t.kind }

// Name is the lock's name, the prefix, or the register's key.
func (t WatchTarget) Name() string { return t.name }

func (t WatchTarget) String() string { return t.kind + " " + strconv.Quote(t.name) }

func (t WatchTarget) validate() error {
	switch t.kind {
	case "lock", "register":
		if t.name == "" {
			return invalidArgument("the watched %s's name is empty", t.kind)
		}
	case "prefix", "keys":
	default:
		return invalidArgument("the watch target is not WatchLock, WatchPrefix, WatchRegister or WatchKeys")
	}
	return nil
}

// WatchEventType is what a watch event reports: the protocol's names.
type WatchEventType string

// The events of a watch: the complete state first (and after a gap), then
// one per change.
const (
	WatchState       WatchEventType = "state"
	WatchAcquired    WatchEventType = "acquired"
	WatchReleased    WatchEventType = "released"
	WatchQueued      WatchEventType = "queued"
	WatchWaitEnded   WatchEventType = "waitEnded"
	WatchRegisterSet WatchEventType = "registerSet"
	// WatchRegisterDeleted: a key was deleted; Version is the one it had,
	// Cause "" (a client deleted it), "sessionExpired", "sessionClosed" or
	// "leaseTimeout" (its time to live passed).
	WatchRegisterDeleted WatchEventType = "registerDeleted"
)

// WatchEvent is one event of a watch.
type WatchEvent struct {
	Type WatchEventType
	// Name is the lock or register; for WatchState, what is watched.
	Name string
	// SessionID is who acquired, released, waited or wrote ("" for WatchState).
	SessionID string
	// Token is the grant's fencing token (WatchAcquired, WatchReleased); else 0.
	Token int64
	Mode  string
	// Cause is why a holder left or a wait ended: "released",
	// "leaseTimeout", "sessionExpired", "sessionClosed", "revoked",
	// "timedOut", "cancelled".
	Cause string
	// Version and Value are a register's after a write, or in its state
	// (version 0 and a nil value: never written).
	Version int64
	Value   []byte
	// Locks, for a lock WatchState: every watched lock held or waited for.
	Locks []LockInfo
	// Keys, for a keys WatchState: every key under the prefix.
	Keys []KeyEntry
	// Position is where the event stands in the cluster's order of changes.
	Position string
}

// Holders lists the tokens of every holder a lock WatchState shows.
func (e WatchEvent) Holders() []int64 {
	var out []int64
	for _, l := range e.Locks {
		for _, h := range l.Holders {
			out = append(out, h.Token)
		}
	}
	return out
}

// LockInfo is a lock that is held or waited for.
type LockInfo struct {
	Name       string       `json:"name"`
	Semaphore  bool         `json:"semaphore"`
	MaxPermits int64        `json:"maxPermits"`
	Holders    []LockHolder `json:"holders"`
	Waiters    []LockWaiter `json:"waiters"`
}

// LockHolder is one holder of a lock.
type LockHolder struct {
	SessionID  string `json:"sessionId"`
	ClientName string `json:"clientName"`
	Mode       string `json:"mode"`
	Permits    int64  `json:"permits"`
	Token      int64  `json:"token"`
}

// LockWaiter is one session waiting for a lock.
type LockWaiter struct {
	SessionID  string `json:"sessionId"`
	ClientName string `json:"clientName"`
	Mode       string `json:"mode"`
	Permits    int64  `json:"permits"`
}

// watchPage is one answer of GET /api/v1/watch.
type watchPage struct {
	Name     string     `json:"name"`
	Next     string     `json:"next"`
	Gap      bool       `json:"gap"`
	More     bool       `json:"more"`
	Locks    []LockInfo `json:"locks"`
	Keys     []keyJSON  `json:"keys"`
	Register *struct {
		Version int64   `json:"version"`
		Value   *string `json:"value"`
	} `json:"register"`
	Events []struct {
		Type      string  `json:"type"`
		Name      string  `json:"name"`
		SessionID string  `json:"sessionId"`
		Token     int64   `json:"token"`
		Mode      string  `json:"mode"`
		Cause     string  `json:"cause"`
		Version   int64   `json:"version"`
		Value     *string `json:"value"`
		Position  string  `json:"position"`
	} `json:"events"`
}

// parseWatchPage reads an answer: a WatchState first for a gap, then the
// changes (unknown types are left out).
func parseWatchPage(body []byte) ([]WatchEvent, string, error) {
	events, next, _, err := parseWatchAnswer(body)
	return events, next, err
}

// parseWatchAnswer is parseWatchPage, and whether the server cut a keys
// WatchState to fit a frame ("more": the rest is listed after its last key).
func parseWatchAnswer(body []byte) ([]WatchEvent, string, bool, error) {
	var p watchPage
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, "", false, fmt.Errorf("the watch's answer is not JSON: %v", err)
	}
	events, err := p.events()
	return events, p.Next, p.Gap && p.More && p.Keys != nil, err
}

// events are the page's WatchState (after a gap) and changes.
func (p *watchPage) events() ([]WatchEvent, error) {
	var out []WatchEvent
	if p.Gap {
		st := WatchEvent{Type: WatchState, Name: p.Name, Position: p.Next, Locks: p.Locks}
		if p.Keys != nil {
			keys, err := entries(p.Keys)
			if err != nil {
				return nil, err
			}
			st.Locks, st.Keys = nil, keys
		} else if p.Register != nil {
			st.Locks = nil
			st.Version = p.Register.Version
			if p.Register.Value != nil && st.Version > 0 {
				v, err := base64.StdEncoding.DecodeString(*p.Register.Value)
				if err != nil {
					return nil, fmt.Errorf("the register's value is not base64: %v", err)
				}
				st.Value = v
			}
		} else if st.Locks == nil {
			st.Locks = []LockInfo{}
		}
		out = append(out, st)
	}
	for _, e := range p.Events {
		t := WatchEventType(e.Type)
		switch t {
		case WatchAcquired, WatchReleased, WatchQueued, WatchWaitEnded, WatchRegisterSet, WatchRegisterDeleted:
		default:
			continue
		}
		ev := WatchEvent{Type: t, Name: e.Name, SessionID: e.SessionID, Token: e.Token, Mode: e.Mode,
			Cause: e.Cause, Version: e.Version, Position: e.Position}
		if e.Value != nil {
			v, err := base64.StdEncoding.DecodeString(*e.Value)
			if err != nil {
				return nil, fmt.Errorf("a register's value is not base64: %v", err)
			}
			ev.Value = v
		}
		out = append(out, ev)
	}
	return out, nil
}

// watchWait is the watch's long poll waitMillis.
const watchWait = 20 * time.Second

// Watch follows a WatchTarget (Client.Watch): its events come on Events(),
// the complete state first, then every change in the cluster's order.
//
// Guaranteed: the watch long-polls GET /api/v1/watch at the client's home
// member (any member serves it), resuming from the position
// of the last change it received, and moves on to the next member with
// backoff after a failure, like the session's event stream. Positions are
// the same at every member, so across a broken connection or the leader's
// death it is told every change it had not been told, none twice; where a
// member no longer has them all (a gap), it is told a fresh WatchState that
// replaces everything known before.
//
// Not guaranteed: that a change is told only once across a gap (the state
// may already show a change told again after it). A watch is no lock:
// AwaitFree returning true means nobody held the lock at that moment.
type Watch struct {
	c      *Client
	target WatchTarget
	events chan WatchEvent
	user   context.Context // the caller's
	ctx    context.Context // ends with the caller's, the client's, or Close
	cancel context.CancelFunc

	mu       sync.Mutex
	err      error
	position string
}

// Watch starts following target until ctx ends, Close is called, or the
// client ends. Read the events from Events(), which is closed when the watch
// ends; Err then says why. It fails at once only for a bad target or a
// client that is closed or expired; a target the server refuses (a name the
// caller may not read: ErrPermissionDenied) ends the watch with that error.
func (c *Client) Watch(ctx context.Context, target WatchTarget) (*Watch, error) {
	if err := target.validate(); err != nil {
		return nil, err
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	if !c.track() {
		return nil, c.Err()
	}
	wctx, cancel := context.WithCancel(ctx)
	w := &Watch{c: c, target: target, events: make(chan WatchEvent), user: ctx, ctx: wctx, cancel: cancel}
	c.tr.spawn(func() { // the client's end ends the watch
		select {
		case <-c.life.Done():
			cancel()
		case <-wctx.Done():
		}
	})
	c.tr.spawn(w.run)
	return w, nil
}

// Events delivers the watch's events, one at a time (the watch waits for
// its reader). It is closed when the watch ends.
func (w *Watch) Events() <-chan WatchEvent { return w.events }

// Target is what the watch follows.
func (w *Watch) Target() WatchTarget { return w.target }

// Position is the position of the last event the watch handed to Events
// (or is handing to it, while its reader has not taken it); "" before the first.
func (w *Watch) Position() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.position
}

// Err is why the watch ended: nil while it runs or after Close, the
// context's error when it ended, the client's error when the client was
// closed or its session expired, or the error the server answered.
func (w *Watch) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close stops the watch (the long poll under way is aborted) and closes
// Events. Idempotent.
func (w *Watch) Close() { w.cancel() }

// ended is why the watch's context ended.
func (w *Watch) ended() error {
	if err := w.c.Err(); err != nil {
		return err
	}
	return w.user.Err()
}

func (w *Watch) finish(err error) {
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
	w.cancel()
}

// run long-polls (longPoll) until the watch ends, resuming from the
// position of the last change it received.
func (w *Watch) run() {
	c := w.c
	defer c.wg.Done()
	defer close(w.events)
	var refusal error
	poll := longPoll{
		c:    c,
		what: "watch of " + w.target.String(),
		path: func(after string) string {
			q := url.Values{w.target.kind: {w.target.name}, "waitMillis": {strconv.FormatInt(millis(watchWait), 10)}}
			if w.target.kind == "keys" {
				q.Set("pages", "true") // a state larger than a frame comes cut, with "more": restOfState
			}
			if after != "" {
				q.Set("after", after)
			}
			return "/api/v1/watch?" + q.Encode()
		},
		wait: watchWait,
		take: func(body []byte, _ time.Time) (string, bool, error) {
			events, next, more, err := parseWatchAnswer(body)
			if err != nil {
				return "", false, err
			}
			if more {
				if err := w.restOfState(&events[0]); err != nil {
					var e *Error
					if errors.As(err, &e) && e.Code != CodeUnavailable {
						refusal = err // refused: a prefix the caller may not read, or the session ended
						return "", false, nil
					}
					return "", false, err // the state again, from another member
				}
			}
			return next, w.deliver(events), nil
		},
		final: func(status int, e *Error) bool {
			if status >= 400 && status < 500 && status != 408 && status != 429 {
				refusal = e // refused: a bad name, or one the caller may not read
				return true
			}
			return false
		},
	}
	poll.run(w.ctx)
	if refusal != nil {
		w.finish(refusal)
	} else {
		w.finish(w.ended())
	}
}

// maxStateKeys is the most keys a keys WatchState holds, as the Java
// client's (the server's own limit of one state).
const maxStateKeys = 10000

// restOfState completes a keys WatchState the server cut to fit a frame
// ("more": true): it lists the keys after its last one, a page at a time,
// up to maxStateKeys, before the changes from its position are told (which
// cover every change since: one may be told twice, none missed).
func (w *Watch) restOfState(state *WatchEvent) error {
	after := ""
	if n := len(state.Keys); n > 0 {
		after = state.Keys[n-1].Key
	}
	for len(state.Keys) < maxStateKeys {
		limit := maxStateKeys - len(state.Keys)
		if limit > MaxPage {
			limit = MaxPage
		}
		page, err := w.c.Keys().List(w.ctx, w.target.name, after, limit)
		if err != nil {
			return err
		}
		state.Keys = append(state.Keys, page.Entries...)
		if after = page.Next(); after == "" {
			return nil
		}
	}
	return nil
}

// deliver hands events to the reader, one at a time; false once the watch
// ends meanwhile.
func (w *Watch) deliver(events []WatchEvent) bool {
	for _, ev := range events {
		w.mu.Lock()
		w.position = ev.Position
		w.mu.Unlock()
		select {
		case w.events <- ev:
		case <-w.ctx.Done():
			return false
		}
	}
	return true
}

// AwaitFree waits until nobody holds the lock name (true), or timeout
// passes (false), through a watch. It is no grant: the lock may be taken
// again at once. The lock's state is needed once even for a timeout of 0:
// it waits up to 3 request timeouts more for it, then returns
// ErrUnavailable. Errors: the watch's (ErrPermissionDenied, the client's
// end), ctx.Err().
func (c *Client) AwaitFree(ctx context.Context, name string, timeout time.Duration) (bool, error) {
	if name == "" {
		return false, invalidArgument("the lock name is empty")
	}
	if timeout < 0 {
		return false, invalidArgument("the timeout is negative (%v)", timeout)
	}
	w, err := c.Watch(ctx, WatchLock(name))
	if err != nil {
		return false, err
	}
	defer w.Close()
	deadline := c.tr.clock.NewTimer(timeout)
	defer deadline.Stop()
	grace := c.tr.clock.NewTimer(timeout + 3*c.reqTimeout)
	defer grace.Stop()
	holders := map[int64]bool{}
	stated, late := false, false
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				if err := w.Err(); err != nil {
					return false, err
				}
				return false, unavailable("the watch of %s ended", name)
			}
			switch ev.Type {
			case WatchState:
				holders = map[int64]bool{}
				for _, t := range ev.Holders() {
					holders[t] = true
				}
				stated = true
			case WatchAcquired:
				holders[ev.Token] = true
			case WatchReleased:
				delete(holders, ev.Token)
			default:
				continue
			}
			if stated && (len(holders) == 0 || late) {
				return len(holders) == 0, nil
			}
		case <-deadline.C():
			if stated {
				return false, nil
			}
			late = true // answer as soon as the state comes
		case <-grace.C():
			return false, unavailable("could not read the state of %s within %v", name, timeout+3*c.reqTimeout)
		}
	}
}
