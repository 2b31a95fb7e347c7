package holdfast

import (
	"context"
	"time"
)

// longPoll is the long poll the session's event stream and watches share
// (docs/protocol.md, "The event stream" and "Watches"): it asks path(after)
// at the client's home member (any member serves both), hands each 200
// answer to take and asks again from the answer's next; after a network
// error, an unreadable answer or a failing status it moves to the home if
// it was elsewhere, else to the next member, and waits a backoff
// first (50 ms doubling to 1 s, jittered). A refused position (400 while it
// has one) starts again without one, which the server answers with the
// state (a gap); a NOT_LEADER answer naming the leader moves there at once.
type longPoll struct {
	c    *Client
	what string // for the log: "event stream", "watch of lock \"x\""
	path func(after string) string
	wait time.Duration
	// take handles a 200 answer's body (sent: when its poll was sent): the
	// position to go on from ("": the same), false to end the poll, or an
	// error if the body is unreadable.
	take func(body []byte, sent time.Time) (next string, more bool, err error)
	// final judges any other answer but a refused position: true ends the
	// poll.
	final func(status int, e *Error) bool
}

// run polls until ctx ends, take says no more, or final ends the poll.
func (p *longPoll) run(ctx context.Context) {
	c := p.c
	after := ""
	m := c.tr.homeIndex()
	backoff := backoffStart
	for ctx.Err() == nil {
		sent := c.now()
		a, err := c.tr.send(ctx, m, "GET", p.path(after), nil, p.wait+c.reqTimeout)
		switch {
		case err == nil && a.status == 200:
			next, more, perr := p.take(a.body, sent)
			if perr != nil {
				c.logf("holdfast: %s at %s: %v", p.what, c.tr.members[m], perr)
				break
			}
			if !more {
				return
			}
			if next != "" {
				after = next
			}
			backoff = backoffStart
			continue
		case err == nil:
			e, leader := parseError(a.status, a.body)
			if a.status == 400 && after != "" {
				c.logf("holdfast: %s at %s refused position %s: %s; reading the state", p.what, c.tr.members[m], after, e.Message)
				after = ""
				continue
			}
			if p.final(a.status, e) {
				return
			}
			c.logf("holdfast: %s at %s: %d %s: %s", p.what, c.tr.members[m], a.status, e.Code, e.Message)
			if e.Code == CodeNotLeader && leader != "" {
				if idx := c.tr.lookup(ctx, leader); idx >= 0 && idx != m {
					m = idx
					continue
				}
			}
		case ctx.Err() == nil:
			c.logf("holdfast: %s at %s: %v", p.what, c.tr.members[m], err)
		}
		// Next: the home if we were elsewhere, else the next address.
		if cur := c.tr.homeIndex(); cur != m {
			m = cur
		} else {
			m = (m + 1) % len(c.tr.members)
		}
		if !c.tr.sleep(ctx, jitter(backoff), c.now().Add(backoffMax)) {
			return
		}
		backoff = grow(backoff)
	}
}
