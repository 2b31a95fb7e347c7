package holdfast

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// eventPage is one answer of GET /api/v1/sessions/{id}/events.
type eventPage struct {
	SessionID string         `json:"sessionId"`
	Events    []sessionEvent `json:"events"`
	Next      string         `json:"next"`
	Gap       bool           `json:"gap"`
	State     *sessionState  `json:"state"`
}

type sessionEvent struct {
	Type      string `json:"type"`
	Position  string `json:"position"`
	Name      string `json:"name"`
	Token     int64  `json:"token"`
	Reason    string `json:"reason"`
	RequestID int64  `json:"requestId"`
}

// sessionState is the session's state sent with a gap.
type sessionState struct {
	Exists bool `json:"exists"`
	Holds  []struct {
		Name    string `json:"name"`
		Token   int64  `json:"token"`
		Mode    string `json:"mode"`
		Permits int64  `json:"permits"`
	} `json:"holds"`
	Waits []struct {
		Name      string `json:"name"`
		RequestID int64  `json:"requestId"`
	} `json:"waits"`
}

// maxLostSeen bounds the losses remembered for grants not adopted yet.
const maxLostSeen = 4096

// eventLoop long-polls the session's event stream (longPoll), resuming
// from the last "next". It reports losses to the leases and expires the
// session when the stream says so.
func (c *Client) eventLoop(s *session) {
	defer c.wg.Done()
	base := "/api/v1/sessions/" + url.PathEscape(s.id) + "/events?waitMillis=" + strconv.FormatInt(millis(eventWait), 10)
	poll := longPoll{
		c:    c,
		what: "event stream",
		path: func(after string) string {
			if after == "" {
				return base
			}
			return base + "&after=" + url.QueryEscape(after)
		},
		wait: eventWait,
		take: func(body []byte, sent time.Time) (string, bool, error) {
			var page eventPage
			if err := json.Unmarshal(body, &page); err != nil {
				return "", false, fmt.Errorf("the answer is not JSON: %v", err)
			}
			return page.Next, c.handlePage(s, &page, sent), nil
		},
		final: func(status int, e *Error) bool {
			if status == 410 || e.Code == CodeSessionExpired {
				c.expire(s, e.Message)
				return true
			}
			return false
		},
	}
	poll.run(s.ctx)
}

// handlePage applies one page of the stream; false when the session ended.
// pollSent is when the poll was sent: a gap's state only judges leases whose
// grant was answered before it.
func (c *Client) handlePage(s *session, page *eventPage, pollSent time.Time) bool {
	if page.Gap {
		return c.handleGap(s, page.State, pollSent)
	}
	for _, ev := range page.Events {
		switch ev.Type {
		case "lost":
			c.lostEvent(s, ev.Name, ev.Token, parseReason(ev.Reason))
		case "sessionExpired":
			c.expire(s, "the cluster reports the session expired")
			return false
		case "sessionClosed":
			c.expire(s, "the cluster reports the session closed")
			return false
		}
		// granted and waitTimedOut: the acquire's own answer says the same.
	}
	return true
}

// lostEvent marks the lease (name, token) lost; a loss of a grant whose
// answer has not been adopted yet is remembered for it.
func (c *Client) lostEvent(s *session, name string, token int64, reason LossReason) {
	key := leaseKey{name, token}
	c.mu.Lock()
	l := s.leases[key]
	if l == nil && c.state == stateOpen {
		if len(s.lostSeen) >= maxLostSeen {
			s.lostSeen = make(map[leaseKey]LossReason)
		}
		s.lostSeen[key] = reason
	}
	c.mu.Unlock()
	if l != nil {
		l.markLost(reason)
	}
}

// handleGap treats every lease the state does not list as lost (after
// checking with the leader that its token is not current: a lagging member
// may not list a grant made just before), and a session that does not exist
// as expired.
func (c *Client) handleGap(s *session, st *sessionState, pollSent time.Time) bool {
	if st == nil {
		c.logf("holdfast: event stream gap without a state")
		return true
	}
	if !st.Exists {
		// A member that has not applied the session's opening yet says the
		// same: the leader decides (410), and the heartbeats' TTL covers the
		// case where it cannot be asked.
		if c.leaderSaysGone(s) {
			c.expire(s, "the cluster no longer has the session (event stream gap)")
			return false
		}
		c.logf("holdfast: an event stream gap said the session does not exist; the leader still has it")
		return true
	}
	c.mu.Lock()
	held := make([]*Lease, 0, len(s.leases))
	for _, l := range s.leases {
		held = append(held, l)
	}
	c.mu.Unlock()
	for _, l := range missingFromState(held, st, pollSent) {
		ctx, cancel := withTimeout(s.ctx, c.tr.clock, c.tr.spawn, c.reqTimeout)
		current, err := c.IsCurrent(ctx, l.name, l.token)
		cancel()
		if s.ctx.Err() != nil {
			return false
		}
		if err == nil && current {
			continue
		}
		l.markLost(LossUnknown)
	}
	return true
}

// missingFromState lists the leases whose grant was answered before
// pollSent and that the state's holds do not list (same name and token).
func missingFromState(held []*Lease, st *sessionState, pollSent time.Time) []*Lease {
	listed := make(map[leaseKey]bool, len(st.Holds))
	for _, h := range st.Holds {
		listed[leaseKey{h.Name, h.Token}] = true
	}
	var out []*Lease
	for _, l := range held {
		if !l.receivedAt.Before(pollSent) {
			continue
		}
		if !listed[leaseKey{l.name, l.token}] {
			out = append(out, l)
		}
	}
	return out
}

// leaderSaysGone sends a heartbeat (to the home, which relays it to the
// leader): true if it answers 410.
func (c *Client) leaderSaysGone(s *session) bool {
	a, err := c.tr.call(s.ctx, request{
		method:         "POST",
		path:           "/api/v1/sessions/" + url.PathEscape(s.id) + "/keepalive",
		body:           func() any { return struct{}{} },
		attemptTimeout: c.reqTimeout,
		deadline:       c.now().Add(c.reqTimeout),
		member:         -1,
	})
	return err == nil && a.status == 410
}
