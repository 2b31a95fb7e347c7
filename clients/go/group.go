package holdfast

import (
	"context"
	"strings"
)

// Group is a group membership (Curator's GroupMember, ZooKeeper's ephemeral
// children): a member joins with a value under this client's session (the
// key "<name>/<member>", attached) and is gone when it leaves or its session
// ends.
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

// Join joins as member with value (again: a new value); it returns the key's version.
func (g *Group) Join(ctx context.Context, member string, value []byte) (int64, error) {
	if member == "" || strings.Contains(member, "/") {
		return 0, invalidArgument("a member is a non-empty name without '/', not %q", member)
	}
	return g.k.Put(ctx, g.prefix+member, value, Attached())
}

// Leave leaves the group at once (else the member leaves when its session ends).
func (g *Group) Leave(ctx context.Context, member string) error {
	_, err := g.k.Delete(ctx, g.prefix+member, AnyVersion)
	return err
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
