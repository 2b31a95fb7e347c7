package holdfast

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Group is a group membership (Curator's GroupMember, ZooKeeper's ephemeral
// children): a member joins with a value under this client's session (the
// key "<name>/<member>", attached) and is gone when it leaves or its session
// ends.
//
// A member name belongs to one live session (docs/protocol.md, "Group
// membership"): a Join of a name another live session holds fails with a
// CONFLICT *Error whose Holder is that session, and changes nothing; joining
// again from this session writes the new value; a name whose session ended
// is free. Failure story: instance i-17 is started twice by mistake; the
// second's Join fails ("member i-17 of group services/web is held by session
// AbC…"), so the first stays registered, and the second's exit deletes
// nothing of it.
type Group struct {
	k      *Keys
	name   string
	prefix string
}

// Group returns the group name (nothing is sent).
func (k *Keys) Group(name string) *Group {
	return &Group{k: k, name: name, prefix: strings.TrimRight(name, "/") + "/"}
}

// Prefix is the prefix of the group's keys ("<name>/").
func (g *Group) Prefix() string { return g.prefix }

// Join joins as member with value (again: a new value); it returns the key's
// version. Another live session's member name is a CONFLICT *Error naming it
// (Holder).
//
// The client joins it again, with the last value, each time it opens a new
// session after losing one (unless it left), by the same rule: a name
// another live session took meanwhile is not taken over, and the
// OnRejoinFailed callbacks are told instead. A key still held by one of this
// client's own lost sessions (the service has not expired it yet) is this
// client's, and is joined again. A join again that fails for any other
// reason (the service unreachable again, the session lost too, a refusal that
// may pass) is tried again after 100 ms, doubling up to 1 s, until it is
// written, another session holds the name, the member left, the client
// closed, or a newer session began its own joins again.
func (g *Group) Join(ctx context.Context, member string, value []byte) (int64, error) {
	key, err := g.key(member)
	if err != nil {
		return 0, err
	}
	c := g.k.c
	for {
		s, err := c.session(ctx, c.now().Add(3*c.reqTimeout))
		if err != nil {
			return 0, err
		}
		now, err := g.k.Get(ctx, key)
		if err != nil {
			return 0, err
		}
		expected := int64(0)
		if now != nil {
			if now.Owner != s.id && !c.own(now.Owner) {
				return 0, g.held(member, now)
			}
			expected = now.Version
		}
		v, err := g.k.Put(ctx, key, value, IfVersion(expected), Attached())
		if err == nil {
			c.mu.Lock()
			c.joined[joinedMember{g.prefix, member}] = append([]byte(nil), value...)
			c.mu.Unlock()
		}
		if !errors.Is(err, ErrConflict) {
			return v, err
		}
		// changed since the read (joined, left, its session ended): read again
	}
}

// OnRejoinFailed registers f, called with the member and the holding
// session when a member this client had joined could not be joined again
// under a new session because another live session holds the name (it is
// not taken over, nor tried again).
func (g *Group) OnRejoinFailed(f func(member, holder string)) *Group {
	c := g.k.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rejoinFailed[g.prefix] = append(c.rejoinFailed[g.prefix], f)
	return g
}

// Leave leaves the group at once (else the member leaves when its session
// ends); it reports whether this session was member (another session's key is
// never deleted).
func (g *Group) Leave(ctx context.Context, member string) (bool, error) {
	key, err := g.key(member)
	if err != nil {
		return false, err
	}
	c := g.k.c
	c.mu.Lock()
	delete(c.joined, joinedMember{g.prefix, member})
	c.mu.Unlock()
	now, err := g.k.Get(ctx, key)
	if err != nil || now == nil || now.Owner != g.k.c.SessionID() {
		return false, err
	}
	if _, err := g.k.Delete(ctx, key, now.Version); err != nil {
		if errors.Is(err, ErrConflict) {
			return false, nil // written or deleted since the read: no longer this session's
		}
		return false, err
	}
	return true, nil
}

func (g *Group) key(member string) (string, error) {
	if member == "" || strings.Contains(member, "/") {
		return "", invalidArgument("a member is a non-empty name without '/', not %q", member)
	}
	return g.prefix + member, nil
}

// held is the refusal of a join of a member name that another session (or
// none: a key written without Attached) holds.
func (g *Group) held(member string, now *KeyEntry) *Error {
	by := "no session"
	if now.Owner != "" {
		by = "session " + now.Owner
	}
	return &Error{
		Code:           CodeConflict,
		Message:        fmt.Sprintf("member %s of group %s is held by %s", member, strings.TrimRight(g.name, "/"), by),
		Status:         409,
		CurrentVersion: now.Version,
		Holder:         now.Owner,
	}
}

// Members lists the live members and their values.
func (g *Group) Members(ctx context.Context) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := g.k.Scan(ctx, g.prefix, func(e KeyEntry) bool {
		out[g.Member(e.Key)] = e.Value
		return true
	})
	return out, err
}

// Member is the member a key (or a watch event's Name) of the group stands for.
func (g *Group) Member(key string) string { return strings.TrimPrefix(key, g.prefix) }

// Watch follows the members: a WatchState (its Keys), then WatchRegisterSet
// (a join or a new value) and WatchRegisterDeleted (a leave; Cause says why).
func (g *Group) Watch(ctx context.Context) (*Watch, error) { return g.k.Watch(ctx, g.prefix) }
