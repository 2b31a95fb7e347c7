package holdfast

import (
	"context"
	"encoding/base64"
)

// Order is how a version compare relates the key's version to its number.
type Order string

// The orders of CompareVersion.
const (
	Equal    Order = "equal"
	NotEqual Order = "notEqual"
	Less     Order = "less"
	Greater  Order = "greater"
)

// MaxTxnOps is the most compares, and ops per branch, of one transaction.
const MaxTxnOps = 128

// Compare is one condition of a transaction, read in the same step as its ops run.
type Compare struct{ json map[string]any }

// CompareVersion holds when key's version (0: absent) stands in order to version.
func CompareVersion(key string, order Order, version int64) Compare {
	return Compare{map[string]any{"type": "version", "key": key, "order": string(order), "version": version}}
}

// CompareValue holds when key is present and holds exactly value.
func CompareValue(key string, value []byte) Compare {
	return Compare{map[string]any{"type": "value", "key": key, "value": base64.StdEncoding.EncodeToString(value)}}
}

// CompareAbsent holds when key is absent.
func CompareAbsent(key string) Compare {
	return Compare{map[string]any{"type": "absent", "key": key}}
}

// CompareFence holds while the lease is its lock's current grant to this
// client's session: the branch is fenced as one write.
func CompareFence(l *Lease) Compare {
	return Compare{map[string]any{"type": "fence", "lock": l.name, "token": l.token}}
}

// CompareHolder holds when session sessionID holds a grant of lock.
func CompareHolder(lock, sessionID string) Compare {
	return Compare{map[string]any{"type": "holder", "lock": lock, "sessionId": sessionID}}
}

// CompareSessionAlive holds when session sessionID has not ended.
func CompareSessionAlive(sessionID string) Compare {
	return Compare{map[string]any{"type": "sessionAlive", "sessionId": sessionID}}
}

// Op is one op of a transaction's branch; each answers one OpResult.
type Op struct {
	json map[string]any
	err  error
}

// OpPut writes key as Keys.Put does; its result is the new version.
func OpPut(key string, value []byte, opts ...PutOption) Op {
	f, err := putFields(key, value, opts)
	if f != nil {
		f["type"] = "put"
	}
	return Op{f, err}
}

// OpDelete deletes key if its version is expected (AnyVersion: any); its
// result is the version it had (0: absent).
func OpDelete(key string, expected int64) Op {
	return Op{json: map[string]any{"type": "delete", "key": key, "expectedVersion": expected}}
}

// OpAdd adds delta to key's counter; its result has the new Version and Counter.
func OpAdd(key string, delta int64) Op {
	return Op{json: map[string]any{"type": "add", "key": key, "delta": delta}}
}

// OpGet reads key; its result has its Version (0: absent) and Value.
func OpGet(key string) Op {
	return Op{json: map[string]any{"type": "get", "key": key}}
}

// OpResult is one op's result: a put's new version, a delete's old one (0:
// absent), an add's new version and Counter, a get's version and Value (nil
// when absent).
type OpResult struct {
	Version int64
	Value   []byte
	Counter int64
}

// TxnResult says which branch ran (Succeeded: Then) and each op's result.
type TxnResult struct {
	Succeeded bool
	Results   []OpResult
}

// Txn is a transaction being built (etcd's Txn): when every compare of If
// holds, the ops of Then run, else those of Else; all of the branch's ops
// apply, or none. Commit runs it in one step.
//
//	r, err := client.Keys().Txn(ctx).
//		If(holdfast.CompareFence(lease), holdfast.CompareVersion("from", holdfast.Equal, 4)).
//		Then(holdfast.OpPut("from", rest), holdfast.OpPut("to", sum)).
//		Commit()
type Txn struct {
	k               *Keys
	ctx             context.Context
	compares        []Compare
	then, otherwise []Op
}

// Txn starts a transaction.
func (k *Keys) Txn(ctx context.Context) *Txn { return &Txn{k: k, ctx: ctx} }

// If sets the compares, all of which must hold for Then to run.
func (t *Txn) If(c ...Compare) *Txn { t.compares = c; return t }

// Then sets the ops run when every compare holds.
func (t *Txn) Then(ops ...Op) *Txn { t.then = ops; return t }

// Else sets the ops run when a compare does not hold.
func (t *Txn) Else(ops ...Op) *Txn { t.otherwise = ops; return t }

// Commit runs the transaction. ErrConflict (or the code of the refusal)
// when an op of the branch that ran was refused: its message names the
// branch and the op ("then op 2: ..."), and nothing changed.
func (t *Txn) Commit() (TxnResult, error) {
	if len(t.compares) > MaxTxnOps || len(t.then) > MaxTxnOps || len(t.otherwise) > MaxTxnOps {
		return TxnResult{}, invalidArgument("a transaction takes at most %d compares and ops per branch", MaxTxnOps)
	}
	compares := make([]map[string]any, 0, len(t.compares))
	for _, c := range t.compares {
		if c.json == nil {
			return TxnResult{}, invalidArgument("a compare is made with a Compare function")
		}
		compares = append(compares, c.json)
	}
	then, err := opsJSON(t.then)
	if err != nil {
		return TxnResult{}, err
	}
	otherwise, err := opsJSON(t.otherwise)
	if err != nil {
		return TxnResult{}, err
	}
	var ans struct {
		Succeeded bool `json:"succeeded"`
		Results   []struct {
			Version int64   `json:"version"`
			Value   *string `json:"value"`
			Counter int64   `json:"counter"`
		} `json:"results"`
	}
	fields := map[string]any{"compares": compares, "then": then, "otherwise": otherwise}
	if err := t.k.write(t.ctx, "/api/v1/txn", fields, &ans); err != nil {
		return TxnResult{}, err
	}
	r := TxnResult{Succeeded: ans.Succeeded, Results: make([]OpResult, 0, len(ans.Results))}
	for _, x := range ans.Results {
		o := OpResult{Version: x.Version, Counter: x.Counter}
		if x.Value != nil {
			v, err := base64.StdEncoding.DecodeString(*x.Value)
			if err != nil {
				return TxnResult{}, unavailable("a transaction's value is not base64: %v", err)
			}
			o.Value = v
		}
		r.Results = append(r.Results, o)
	}
	return r, nil
}

func opsJSON(ops []Op) ([]map[string]any, error) {
	out := make([]map[string]any, 0, len(ops))
	for _, o := range ops {
		if o.err != nil {
			return nil, o.err
		}
		if o.json == nil || o.json["key"] == "" {
			return nil, invalidArgument("an op is made with an Op function and names a key")
		}
		out = append(out, o.json)
	}
	return out, nil
}
