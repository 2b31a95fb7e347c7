package main

import (
	"context"
	"time"

	holdfast "github.com/holdfast-io/holdfast/clients/go"
)

// txnPart is one compare or op of a txn command, as the protocol writes it
// but with values as UTF-8 text; the handle of a fence compare names a lease.
type txnPart struct {
	Type            string  `json:"type"`
	Key             string  `json:"key"`
	Order           string  `json:"order"`
	Version         int64   `json:"version"`
	Value           *string `json:"value"`
	Handle          string  `json:"handle"`
	Lock            string  `json:"lock"`
	SessionID       string  `json:"sessionId"`
	ExpectedVersion *int64  `json:"expectedVersion"`
	Attach          bool    `json:"attach"`
	TTLMillis       int64   `json:"ttlMillis"`
	Lease           *string `json:"lease"`
	Delta           int64   `json:"delta"`
}

func expected(v *int64, otherwise int64) int64 {
	if v == nil {
		return otherwise
	}
	return *v
}

func text(v *string) []byte {
	if v == nil {
		return []byte{}
	}
	return []byte(*v)
}

func putOptions(expectedVersion *int64, attach bool, ttlMillis int64, lease *string) []holdfast.PutOption {
	opts := []holdfast.PutOption{holdfast.IfVersion(expected(expectedVersion, holdfast.AnyVersion))}
	if attach {
		opts = append(opts, holdfast.Attached())
	}
	if lease != nil {
		opts = append(opts, holdfast.OnLease(*lease))
	}
	if ttlMillis != 0 {
		opts = append(opts, holdfast.WithTTL(time.Duration(ttlMillis)*time.Millisecond))
	}
	return opts
}

func keyLine(e holdfast.KeyEntry) map[string]any {
	var owner any
	if e.Owner != "" {
		owner = e.Owner
	}
	return map[string]any{"key": e.Key, "version": e.Version, "value": string(e.Value), "owner": owner}
}

func keyLines(es []holdfast.KeyEntry) []any {
	out := []any{}
	for _, e := range es {
		out = append(out, keyLine(e))
	}
	return out
}

// keyOp performs keyGet, keyPut, keyDelete, keyAdd, keyList, keyDeletePrefix, txn, groupJoin and groupLeave.
func (d *driver) keyOp(ctx context.Context, c *holdfast.Client, cmd command) (map[string]any, error) {
	k := c.Keys()
	switch cmd.Op {
	case "keyGet":
		e, err := k.Get(ctx, cmd.Key)
		if err != nil || e == nil {
			return map[string]any{"version": 0, "value": nil, "owner": nil}, err
		}
		return keyLine(*e), nil
	case "keyPut":
		v, err := k.Put(ctx, cmd.Key, text(cmd.Value), putOptions(cmd.ExpectedVersion, cmd.Attach, cmd.TTLMillis, cmd.KeyLease)...)
		return map[string]any{"version": v}, err
	case "keyDelete":
		v, err := k.Delete(ctx, cmd.Key, expected(cmd.ExpectedVersion, holdfast.AnyVersion))
		return map[string]any{"version": v}, err
	case "keyAdd":
		v, err := k.Add(ctx, cmd.Key, cmd.Delta)
		return map[string]any{"value": v}, err
	case "groupJoin":
		v, err := k.Group(cmd.Group).Join(ctx, cmd.Member, text(cmd.Value))
		return map[string]any{"version": v}, err
	case "groupLeave":
		left, err := k.Group(cmd.Group).Leave(ctx, cmd.Member)
		return map[string]any{"left": left}, err
	case "keyDeletePrefix":
		prefix := ""
		if cmd.Prefix != nil {
			prefix = *cmd.Prefix
		}
		n, err := k.DeletePrefix(ctx, prefix)
		return map[string]any{"deleted": n}, err
	case "keyList":
		limit := cmd.Limit
		if limit == 0 {
			limit = holdfast.MaxPage
		}
		prefix := ""
		if cmd.Prefix != nil {
			prefix = *cmd.Prefix
		}
		page, err := k.List(ctx, prefix, cmd.After, limit)
		return map[string]any{"keys": keyLines(page.Entries), "more": page.More, "position": page.Position}, err
	}
	return d.txn(ctx, k, cmd)
}

func (d *driver) txn(ctx context.Context, k *holdfast.Keys, cmd command) (map[string]any, error) {
	var compares []holdfast.Compare
	for _, p := range cmd.Compares {
		switch p.Type {
		case "version":
			compares = append(compares, holdfast.CompareVersion(p.Key, holdfast.Order(p.Order), p.Version))
		case "value":
			compares = append(compares, holdfast.CompareValue(p.Key, text(p.Value)))
		case "absent":
			compares = append(compares, holdfast.CompareAbsent(p.Key))
		case "fence":
			ls, ok := d.handle(p.Handle)
			if !ok || len(ls) == 0 {
				return nil, invalid("no lease %q to fence with", p.Handle)
			}
			compares = append(compares, holdfast.CompareFence(ls[0]))
		case "holder":
			compares = append(compares, holdfast.CompareHolder(p.Lock, p.SessionID))
		case "sessionAlive":
			compares = append(compares, holdfast.CompareSessionAlive(p.SessionID))
		default:
			return nil, invalid("unknown compare %q", p.Type)
		}
	}
	then, err := ops(cmd.Then)
	if err != nil {
		return nil, err
	}
	otherwise, err := ops(cmd.Otherwise)
	if err != nil {
		return nil, err
	}
	r, err := k.Txn(ctx).If(compares...).Then(then...).Else(otherwise...).Commit()
	if err != nil {
		return nil, err
	}
	results := []any{}
	for _, x := range r.Results {
		var value any
		if x.Value != nil {
			value = string(x.Value)
		}
		results = append(results, map[string]any{"version": x.Version, "value": value, "counter": x.Counter})
	}
	return map[string]any{"succeeded": r.Succeeded, "results": results}, nil
}

func ops(parts []txnPart) ([]holdfast.Op, error) {
	var out []holdfast.Op
	for _, p := range parts {
		switch p.Type {
		case "put":
			out = append(out, holdfast.OpPut(p.Key, text(p.Value), putOptions(p.ExpectedVersion, p.Attach, p.TTLMillis, p.Lease)...))
		case "delete":
			out = append(out, holdfast.OpDelete(p.Key, expected(p.ExpectedVersion, holdfast.AnyVersion)))
		case "add":
			out = append(out, holdfast.OpAdd(p.Key, p.Delta))
		case "get":
			out = append(out, holdfast.OpGet(p.Key))
		default:
			return nil, invalid("unknown op %q", p.Type)
		}
	}
	return out, nil
}
