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

// open opens the session at the home (POST /api/v1/sessions), retried with
// the same session id until about 3× the request timeout; it returns when
// the successful attempt was sent, which counts as the first heartbeat.
func (c *Client) open(ctx context.Context, cfg Config) (time.Time, error) {
	id, err := newSessionID()
	if err != nil {
		return time.Time{}, unavailable("cannot make a session id: %v", err)
	}
	name := cfg.ClientName
	if name == "" {
		name = defaultClientName()
	}
	body := map[string]any{
		"clientName": name,
		"ttlMillis":  millis(c.ttl),
		"sessionId":  id,
	}
	if cfg.LockDelay > 0 {
		body["lockDelayMillis"] = millis(cfg.LockDelay)
	}
	a, err := c.tr.call(ctx, request{
		method:         "POST",
		path:           "/api/v1/sessions",
		body:           func() any { return body },
		attemptTimeout: c.reqTimeout,
		deadline:       c.now().Add(3 * c.reqTimeout),
		member:         -1,
	})
	if err != nil {
		return time.Time{}, err
	}
	if a.status != 200 && a.status != 201 {
		e, _ := parseError(a.status, a.body)
		return time.Time{}, e
	}
	var ans struct {
		SessionID string `json:"sessionId"`
		TTLMillis int64  `json:"ttlMillis"`
	}
	if err := json.Unmarshal(a.body, &ans); err != nil || ans.SessionID == "" {
		return time.Time{}, unavailable("the session's answer has no sessionId: %s", oneLine(string(a.body)))
	}
	c.sessionID = ans.SessionID
	if ans.TTLMillis > 0 {
		c.ttl = time.Duration(ans.TTLMillis) * time.Millisecond
	}
	return a.sentAt, nil
}

// heartbeatLoop sends POST /api/v1/sessions/{id}/keepalive every TTL/3 to
// the leader, retrying a failed heartbeat at other members. When no
// heartbeat has been acknowledged for a whole TTL, counted from the sending
// of the last acknowledged one, or the server answers 410, the session is
// expired locally.
func (c *Client) heartbeatLoop(lastAck time.Time) {
	defer c.wg.Done()
	path := "/api/v1/sessions/" + url.PathEscape(c.sessionID) + "/keepalive"
	next := lastAck.Add(c.ttl / 3)
	backoff := backoffStart
	attempt := c.reqTimeout
	if attempt > c.ttl/3 {
		attempt = c.ttl / 3
	}
	for {
		if !c.sleepUntil(c.ctx, next) {
			return
		}
		deadline := lastAck.Add(c.ttl)
		a, err := c.tr.call(c.ctx, request{
			method:         "POST",
			path:           path,
			body:           func() any { return struct{}{} },
			attemptTimeout: attempt,
			deadline:       deadline,
			member:         -1,
		})
		if err != nil {
			if c.ctx.Err() != nil {
				return
			}
			c.expire("no heartbeat was acknowledged for " + c.ttl.String() + ": " + trimPrefix(err))
			return
		}
		switch {
		case a.status == 200 || a.status == 204:
			lastAck = a.sentAt
			next = lastAck.Add(c.ttl / 3)
			backoff = backoffStart
		case a.status == 410:
			e, _ := parseError(a.status, a.body)
			c.expire(e.Message)
			return
		default:
			e, _ := parseError(a.status, a.body)
			c.logf("holdfast: heartbeat refused: %v", e)
			if !c.now().Before(deadline) {
				c.expire("no heartbeat was acknowledged for " + c.ttl.String() + ": " + e.Message)
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
