package holdfast

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"time"
)

// newSessionID makes a session id the client chooses, so that an open whose
// answer was lost can be sent again. It has the one form every Holdfast
// client and node makes (io.holdfast.model.SessionIds.newId): 22 characters
// of A-Za-z0-9_-, 16 random bytes whose first byte's top bit is clear (127
// random bits), so it begins with one of A-Za-f, never with '-'.
func newSessionID() (string, error) {
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	raw[0] &= 0x7f
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// openSession opens a session with a new id at the home (POST
// /api/v1/sessions), retried with the same id until deadline; it returns the
// id and when the successful attempt was sent, which counts as the first
// heartbeat. Each attempt at one member gets at most half of the time the try
// has when it begins (and at most the request timeout), so that a member that
// never answers leaves the try time for another: with the whole try at one
// member, a renewal's try of one request timeout was used up there and a
// pause followed (likely why a client was back 5.5 s after the service in a
// CI run of 2026-12-06).
func (c *Client) openSession(ctx context.Context, deadline time.Time) (string, time.Time, error) {
	id, err := newSessionID()
	if err != nil {
		return "", time.Time{}, unavailable("cannot make a session id: %v", err)
	}
	c.mu.Lock()
	ttl := c.ttl
	c.mu.Unlock()
	body := map[string]any{
		"clientName": c.clientName,
		"ttlMillis":  millis(ttl),
		"sessionId":  id,
	}
	if c.lockDelay > 0 {
		body["lockDelayMillis"] = millis(c.lockDelay)
	}
	attempt := c.reqTimeout
	if half := deadline.Sub(c.now()) / 2; half < attempt {
		attempt = half
	}
	a, err := c.tr.call(ctx, request{
		method:         "POST",
		path:           "/api/v1/sessions",
		body:           func() any { return body },
		attemptTimeout: attempt,
		deadline:       deadline,
		member:         -1,
	})
	if err != nil {
		return "", time.Time{}, err
	}
	if a.status != 200 && a.status != 201 {
		e, _ := parseError(a.status, a.body)
		return "", time.Time{}, e
	}
	var ans struct {
		SessionID string `json:"sessionId"`
		TTLMillis int64  `json:"ttlMillis"`
	}
	if err := json.Unmarshal(a.body, &ans); err != nil || ans.SessionID == "" {
		return "", time.Time{}, unavailable("the session's answer has no sessionId: %s", oneLine(string(a.body)))
	}
	if ans.TTLMillis > 0 {
		c.mu.Lock()
		c.ttl = time.Duration(ans.TTLMillis) * time.Millisecond
		c.mu.Unlock()
	}
	return ans.SessionID, a.sentAt, nil
}

// heartbeatLoop sends POST /api/v1/sessions/{id}/keepalive every TTL/3 to
// the leader, retrying a failed heartbeat at other members. When no
// heartbeat has been acknowledged for a whole TTL, counted from the sending
// of the last acknowledged one, or the server answers 410, the session is
// lost locally.
func (c *Client) heartbeatLoop(s *session, lastAck time.Time) {
	defer c.wg.Done()
	path := "/api/v1/sessions/" + url.PathEscape(s.id) + "/keepalive"
	c.mu.Lock()
	ttl := c.ttl
	c.mu.Unlock()
	next := lastAck.Add(ttl / 3)
	backoff := backoffStart
	attempt := c.reqTimeout
	if attempt > ttl/3 {
		attempt = ttl / 3
	}
	for {
		if !c.sleepUntil(s.ctx, next) {
			return
		}
		deadline := lastAck.Add(ttl)
		a, err := c.tr.call(s.ctx, request{
			method:         "POST",
			path:           path,
			body:           func() any { return struct{}{} },
			attemptTimeout: attempt,
			deadline:       deadline,
			member:         -1,
		})
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			c.expire(s, "no heartbeat was acknowledged for "+ttl.String()+": "+trimPrefix(err))
			return
		}
		switch {
		case a.status == 200 || a.status == 204:
			lastAck = a.sentAt
			next = lastAck.Add(ttl / 3)
			backoff = backoffStart
		case a.status == 410:
			e, _ := parseError(a.status, a.body)
			c.expire(s, e.Message)
			return
		default:
			e, _ := parseError(a.status, a.body)
			c.logf("holdfast: heartbeat refused: %v", e)
			if !c.now().Before(deadline) {
				c.expire(s, "no heartbeat was acknowledged for "+ttl.String()+": "+e.Message)
				return
			}
			next = c.now().Add(jitter(backoff))
			backoff = grow(backoff)
		}
	}
}

// sleepUntil waits until t of the client's clock; false if ctx ended first.
func (c *Client) sleepUntil(ctx context.Context, t time.Time) bool {
	return c.tr.sleep(ctx, t.Sub(c.now()), t)
}

func trimPrefix(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Message
	}
	return err.Error()
}
