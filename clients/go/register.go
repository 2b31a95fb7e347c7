package holdfast

import (
	"context"
	"encoding/base64"
	"encoding/json"
)

// Register is a small versioned value (at most 64 KiB) kept by the cluster,
// written with compare-and-set and optionally fenced by a lease.
type Register struct {
	c   *Client
	key string
}

// Register returns the register named key (nothing is sent).
func (c *Client) Register(key string) *Register {
	return &Register{c: c, key: key}
}

// Key is the register's key.
func (r *Register) Key() string { return r.key }

// Get reads the register at the leader: its version and value. A register
// never written has version 0 and a nil value (no error).
func (r *Register) Get(ctx context.Context) (version int64, value []byte, err error) {
	if r.key == "" {
		return 0, nil, invalidArgument("the register key is empty")
	}
	a, err := r.c.get(ctx, "/api/v1/registers/"+escapePath(r.key))
	if err != nil {
		return 0, nil, err
	}
	if a.status == 404 {
		e, _ := parseError(a.status, a.body)
		if e.Code == CodeNotFound {
			return 0, nil, nil
		}
		return 0, nil, e
	}
	if a.status != 200 {
		return 0, nil, r.c.answerError(nil, a)
	}
	var ans struct {
		Version int64   `json:"version"`
		Value   *string `json:"value"`
	}
	if err := json.Unmarshal(a.body, &ans); err != nil {
		return 0, nil, unavailable("the register's answer is not JSON: %v", err)
	}
	if ans.Value == nil {
		return ans.Version, nil, nil
	}
	v, err := base64.StdEncoding.DecodeString(*ans.Value)
	if err != nil {
		return 0, nil, unavailable("the register's value is not base64: %v", err)
	}
	return ans.Version, v, nil
}

// SetOption adjusts one CompareAndSet.
type SetOption func(*setOptions)

type setOptions struct {
	fenceName  string
	fenceToken int64
	fenced     bool
}

// FencedBy makes the write happen only while the lease's grant is current
// and held by this session, checked in the same step as the write.
func FencedBy(l *Lease) SetOption {
	return func(o *setOptions) {
		if l != nil {
			o.fenceName, o.fenceToken, o.fenced = l.name, l.token, true
		}
	}
}

// Fence is FencedBy with a lock name and token given directly.
func Fence(name string, token int64) SetOption {
	return func(o *setOptions) { o.fenceName, o.fenceToken, o.fenced = name, token, true }
}

// CompareAndSet writes value if the register's version is expected (0:
// "absent") and returns the new version. ErrConflict (with
// Error.CurrentVersion) when the version differs; a fenced write whose grant
// is no longer current is refused by the server with its own code.
func (r *Register) CompareAndSet(ctx context.Context, expected int64, value []byte, opts ...SetOption) (int64, error) {
	if r.key == "" {
		return 0, invalidArgument("the register key is empty")
	}
	if expected < 0 {
		return 0, invalidArgument("the expected version is negative (%d)", expected)
	}
	var o setOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	fields := map[string]any{
		"key":             r.key,
		"expectedVersion": expected,
		"value":           base64.StdEncoding.EncodeToString(value),
	}
	if o.fenced {
		if o.fenceName == "" {
			return 0, invalidArgument("the fence's lock name is empty")
		}
		fields["fenceName"] = o.fenceName
		fields["fenceToken"] = o.fenceToken
	}
	a, err := r.c.numbered(ctx, nil, "/api/v1/registers/set", fields)
	if err != nil {
		return 0, err
	}
	if a.status != 200 {
		return 0, r.c.answerError(nil, a)
	}
	var ans struct {
		Version int64 `json:"version"`
	}
	if err := json.Unmarshal(a.body, &ans); err != nil {
		return 0, unavailable("the register's answer is not JSON: %v", err)
	}
	return ans.Version, nil
}
