package holdfast

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/url"
	"strconv"
	"time"
)

// AnyVersion is an expected version any version matches: a put or delete
// without a condition.
const AnyVersion int64 = -1

// MaxPage is the most keys one page of Keys.List holds.
const MaxPage = 1000

// KeyEntry is one key as a read, a list or a watch saw it.
type KeyEntry struct {
	Key     string
	Version int64
	Value   []byte
	// Owner is the session the key is attached to; "" when none.
	Owner string
}

// Counter reads the value as a counter: 8 bytes, a signed big-endian 64-bit
// integer (what Keys.Add writes). ErrInvalidArgument for a value of another
// length, in the server's words: "K holds N bytes, not a counter (exactly 8 bytes)".
func (e KeyEntry) Counter() (int64, error) {
	if len(e.Value) != 8 {
		return 0, invalidArgument("%s holds %d bytes, not a counter (exactly 8 bytes)", e.Key, len(e.Value))
	}
	return int64(binary.BigEndian.Uint64(e.Value)), nil
}

// KeyListing is one page of Keys.List: keys in byte order, read at one point.
type KeyListing struct {
	Entries []KeyEntry
	// More says whether keys after the last of this page match too.
	More bool
	// Position is where the page was read: a watch from there misses nothing.
	Position string
}

// Next is the After of the next page; "" when there is none.
func (l KeyListing) Next() string {
	if !l.More || len(l.Entries) == 0 {
		return ""
	}
	return l.Entries[len(l.Entries)-1].Key
}

// Keys are small values beside the locks (protocol.md, "Keys"): deleted,
// listed and watched by prefix, attached to the session, given a time to
// live, counted, and changed several at once in a transaction.
//
// Every write carries a request id of the session's ledger, so a write
// retried after a lost answer applies once (a transaction's branch runs
// once). A key put with Attached is deleted in the same step as the session
// ends, and every watcher is told WatchRegisterDeleted with the cause
// ("sessionExpired", "sessionClosed"); one put WithTTL when its time passes
// ("leaseTimeout"). The pages of Scan are each read at their own point.
type Keys struct{ c *Client }

// Keys returns the cluster's keys, written through this client's session.
func (c *Client) Keys() *Keys { return &Keys{c: c} }

type keyJSON struct {
	Key     string  `json:"key"`
	Version int64   `json:"version"`
	Value   *string `json:"value"`
	Owner   *string `json:"owner"`
}

func (k keyJSON) entry() (KeyEntry, error) {
	e := KeyEntry{Key: k.Key, Version: k.Version, Value: []byte{}}
	if k.Owner != nil {
		e.Owner = *k.Owner
	}
	if k.Value != nil {
		v, err := base64.StdEncoding.DecodeString(*k.Value)
		if err != nil {
			return e, unavailable("key %s's value is not base64: %v", k.Key, err)
		}
		e.Value = v
	}
	return e, nil
}

func entries(raw []keyJSON) ([]KeyEntry, error) {
	out := make([]KeyEntry, 0, len(raw))
	for _, k := range raw {
		e, err := k.entry()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Get reads the key at the leader (linearizable); nil when it is absent.
func (k *Keys) Get(ctx context.Context, key string) (*KeyEntry, error) {
	if key == "" {
		return nil, invalidArgument("the key is empty")
	}
	a, err := k.c.get(ctx, "/api/v1/keys/"+escapePath(key))
	if err != nil {
		return nil, err
	}
	if a.status == 404 {
		if e, _ := parseError(a.status, a.body); e.Code == CodeNotFound {
			return nil, nil
		}
	}
	if a.status != 200 {
		return nil, k.c.answerError(nil, a)
	}
	var raw keyJSON
	if err := json.Unmarshal(a.body, &raw); err != nil {
		return nil, unavailable("the key's answer is not JSON: %v", err)
	}
	e, err := raw.entry()
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// PutOption adjusts one Put (or a transaction's OpPut).
type PutOption func(*putOptions)

type putOptions struct {
	expected int64
	attach   bool
	detach   bool
	ttl      time.Duration
	lease    *string
}

// IfVersion writes only if the key's version is v (0: absent).
func IfVersion(v int64) PutOption { return func(o *putOptions) { o.expected = v } }

// IfAbsent writes only if the key is absent.
func IfAbsent() PutOption { return IfVersion(0) }

// Attached ties the key to this client's session: it is deleted in the same
// step as the session ends (ZooKeeper's ephemeral node, a key on etcd's lease).
func Attached() PutOption { return func(o *putOptions) { o.attach = true } }

// Detached ties the key to no session: it lives until deleted (or its
// WithTTL), as etcd's Put without a lease. A put without Attached, Detached or
// WithTTL keeps the key's lifetime: attached to its session (whichever session
// writes it) or its deadline, as ZooKeeper's setData keeps a node ephemeral.
func Detached() PutOption { return func(o *putOptions) { o.detach = true } }

// OnLease ties the key to the open session id, a lease (ADR 0006, protocol
// version 10), instead of this client's: it is deleted in the same step as
// that session ends. The session must be of the same identity (an admin may
// name any); one that is not open is ErrConflict, nothing written. Not with
// Detached or WithTTL.
func OnLease(id string) PutOption { return func(o *putOptions) { o.lease = &id } }

// MinKeyTTL and MaxKeyTTL bound a key's time to live (WithTTL).
const (
	MinKeyTTL = time.Second
	MaxKeyTTL = 30 * 24 * time.Hour
)

// WithTTL deletes the key d after this write (MinKeyTTL to MaxKeyTTL: 1 s to
// 30 days).
func WithTTL(d time.Duration) PutOption { return func(o *putOptions) { o.ttl = d } }

func putFields(key string, value []byte, opts []PutOption) (map[string]any, error) {
	o := putOptions{expected: AnyVersion}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if key == "" {
		return nil, invalidArgument("the key is empty")
	}
	if o.expected < AnyVersion {
		return nil, invalidArgument("the expected version is 0 or more, or AnyVersion, not %d", o.expected)
	}
	if o.attach && o.detach {
		return nil, invalidArgument("a put attaches or detaches its key, not both")
	}
	if o.ttl != 0 && (o.ttl < MinKeyTTL || o.ttl > MaxKeyTTL) {
		return nil, invalidArgument("a key's time to live is 1 s to 30 days, not %v", o.ttl)
	}
	if o.lease != nil && *o.lease == "" {
		return nil, invalidArgument("a lease is the id of an open session, not empty")
	}
	if o.lease != nil && (o.detach || o.ttl != 0) {
		return nil, invalidArgument("a put on a lease lives as long as the lease: no Detached, no WithTTL")
	}
	f := map[string]any{"key": key, "value": base64.StdEncoding.EncodeToString(value), "expectedVersion": o.expected}
	if o.lease != nil {
		// With attach: a server older than protocol version 10 ignores "lease" and
		// attaches the key to the writer's session rather than keeping it for ever.
		f["lease"] = *o.lease
		o.attach = true
	}
	if o.attach {
		f["attach"] = true
	}
	if o.detach {
		f["detach"] = true
	}
	if o.ttl != 0 {
		f["ttlMillis"] = o.ttl.Milliseconds()
	}
	return f, nil
}

// Put writes value to key and returns the new version. Without Attached,
// Detached or WithTTL the key keeps its lifetime (its session, its deadline;
// a new key lives until deleted).
// ErrConflict (Error.CurrentVersion) when IfVersion does not hold;
// ErrQuotaExceeded when the session has 10,000 attached keys.
func (k *Keys) Put(ctx context.Context, key string, value []byte, opts ...PutOption) (int64, error) {
	f, err := putFields(key, value, opts)
	if err != nil {
		return 0, err
	}
	var ans struct {
		Version int64 `json:"version"`
	}
	err = k.write(ctx, "/api/v1/keys/put", f, &ans)
	return ans.Version, err
}

// Delete deletes key if its version is expected (AnyVersion: whatever it is)
// and returns the version it had (0: it was absent). ErrConflict otherwise.
func (k *Keys) Delete(ctx context.Context, key string, expected int64) (int64, error) {
	if key == "" {
		return 0, invalidArgument("the key is empty")
	}
	if expected < AnyVersion {
		return 0, invalidArgument("the expected version is 0 or more, or AnyVersion, not %d", expected)
	}
	var ans struct {
		Version int64 `json:"version"`
	}
	err := k.write(ctx, "/api/v1/keys/delete", map[string]any{"key": key, "expectedVersion": expected}, &ans)
	return ans.Version, err
}

// Add adds delta to key's counter in one step (an absent key counts 0) and
// returns the new value. ErrInvalidArgument for a key that is not 8 bytes,
// or an overflow.
func (k *Keys) Add(ctx context.Context, key string, delta int64) (int64, error) {
	if key == "" {
		return 0, invalidArgument("the key is empty")
	}
	var ans struct {
		Value int64 `json:"value"`
	}
	err := k.write(ctx, "/api/v1/keys/add", map[string]any{"key": key, "delta": delta}, &ans)
	return ans.Value, err
}

// EmptyPrefixDelete is the refusal of a prefix delete without a prefix, as
// the server words it.
const EmptyPrefixDelete = "a prefix delete needs a prefix: deleting every key at once is not offered"

// DeletePrefix deletes every key that starts with prefix and returns how
// many (etcd's DeleteRange with a prefix). Paged: each page of up to MaxPage
// keys is one step on the server (protocol version 9), the whole is not. An
// empty prefix is refused (ErrInvalidArgument) before anything is sent.
func (k *Keys) DeletePrefix(ctx context.Context, prefix string) (int64, error) {
	if prefix == "" {
		return 0, invalidArgument(EmptyPrefixDelete)
	}
	var deleted int64
	for {
		var ans struct {
			Deleted int64 `json:"deleted"`
			More    bool  `json:"more"`
		}
		err := k.write(ctx, "/api/v1/keys/delete-prefix", map[string]any{"prefix": prefix, "limit": MaxPage}, &ans)
		deleted += ans.Deleted
		if err != nil || !ans.More {
			return deleted, err
		}
	}
}

// List reads one page of the keys under prefix after after ("" for the
// first page), at most limit (1 to MaxPage), in byte order, at the leader.
func (k *Keys) List(ctx context.Context, prefix, after string, limit int) (KeyListing, error) {
	return k.list(ctx, prefix, after, limit, false)
}

// ListKeysOnly is List without the values (etcd's --keys-only): the server
// does not send them, and each entry's Value is empty.
func (k *Keys) ListKeysOnly(ctx context.Context, prefix, after string, limit int) (KeyListing, error) {
	return k.list(ctx, prefix, after, limit, true)
}

func (k *Keys) list(ctx context.Context, prefix, after string, limit int, keysOnly bool) (KeyListing, error) {
	if limit < 1 || limit > MaxPage {
		return KeyListing{}, invalidArgument("a page's limit is 1 to %d, not %d", MaxPage, limit)
	}
	q := url.Values{"prefix": {prefix}, "after": {after}, "limit": {strconv.Itoa(limit)}}
	if keysOnly {
		q.Set("keysOnly", "true")
	}
	a, err := k.c.get(ctx, "/api/v1/keys?"+q.Encode())
	if err != nil {
		return KeyListing{}, err
	}
	if a.status != 200 {
		return KeyListing{}, k.c.answerError(nil, a)
	}
	var ans struct {
		Keys     []keyJSON `json:"keys"`
		More     bool      `json:"more"`
		Position string    `json:"position"`
	}
	if err := json.Unmarshal(a.body, &ans); err != nil {
		return KeyListing{}, unavailable("the listing is not JSON: %v", err)
	}
	es, err := entries(ans.Keys)
	return KeyListing{Entries: es, More: ans.More, Position: ans.Position}, err
}

// Scan calls fn with every key under prefix, page after page, until fn
// returns false or the keys end.
func (k *Keys) Scan(ctx context.Context, prefix string, fn func(KeyEntry) bool) error {
	after := ""
	for {
		page, err := k.List(ctx, prefix, after, MaxPage)
		if err != nil {
			return err
		}
		for _, e := range page.Entries {
			if !fn(e) {
				return nil
			}
		}
		if after = page.Next(); after == "" {
			return nil
		}
	}
}

// Watch follows every key under prefix: a WatchState first (its Keys), then
// WatchRegisterSet and WatchRegisterDeleted (with Cause) in the cluster's
// order. The same as Client.Watch with WatchKeys(prefix).
func (k *Keys) Watch(ctx context.Context, prefix string) (*Watch, error) {
	return k.c.Watch(ctx, WatchKeys(prefix))
}

func (k *Keys) write(ctx context.Context, path string, fields map[string]any, ans any) error {
	a, err := k.c.numbered(ctx, nil, path, fields)
	if err != nil {
		return err
	}
	if a.status != 200 {
		return k.c.answerError(nil, a)
	}
	if err := json.Unmarshal(a.body, ans); err != nil {
		return unavailable("the answer of %s is not JSON: %v", path, err)
	}
	return nil
}
