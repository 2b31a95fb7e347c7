package holdfast

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// The fake cluster's keys: get, list, put, delete, add and transactions
// (compares on version, value and absence), keys attached to a session and
// deleted when it ends, and their changes in the watch record. Every method
// is called with f.mu held.

type fakeKey struct {
	version int64
	value   string // base64
	owner   string
}

func (f *fakeCluster) keyViewLocked(key string) map[string]any {
	k := f.keys[key]
	var owner any
	if k.owner != "" {
		owner = k.owner
	}
	return map[string]any{"key": key, "version": k.version, "value": k.value, "owner": owner}
}

// serveKeys answers the reads of keys; false for another route.
func (f *fakeCluster) serveKeys(w http.ResponseWriter, r *http.Request) bool {
	path := r.URL.Path
	if r.Method != "GET" || !strings.HasPrefix(path, "/api/v1/keys") {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if key := strings.TrimPrefix(path, "/api/v1/keys/"); key != path {
		if _, ok := f.keys[key]; !ok {
			writeJSON(w, 404, errBody("NOT_FOUND", "no key "+key))
			return true
		}
		writeJSON(w, 200, f.keyViewLocked(key))
		return true
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	names := f.keyNamesLocked(q.Get("prefix"), q.Get("after"))
	more := len(names) > limit
	if more {
		names = names[:limit]
	}
	out := []any{}
	for _, n := range names {
		view := f.keyViewLocked(n)
		if q.Get("keysOnly") == "true" {
			view["value"] = ""
		}
		out = append(out, view)
	}
	writeJSON(w, 200, map[string]any{"keys": out, "more": more, "position": strconv.Itoa(len(f.changes)) + ".0"})
	return true
}

func (f *fakeCluster) keyNamesLocked(prefix, after string) []string {
	var names []string
	for n := range f.keys {
		if strings.HasPrefix(n, prefix) && n > after {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func (f *fakeCluster) keysStateLocked(prefix string) []any {
	out := []any{}
	for _, n := range f.keyNamesLocked(prefix, "") {
		out = append(out, f.keyViewLocked(n))
	}
	return out
}

// decideKeys makes the outcome of a key write or a transaction.
func (f *fakeCluster) decideKeys(sid, path string, body map[string]any, o *fakeOutcome) {
	if path == "/api/v1/txn" {
		f.txnLocked(sid, body, o)
		return
	}
	if path == "/api/v1/keys/delete-prefix" {
		prefix, limit := str(body, "prefix"), int(num(body, "limit"))
		if prefix == "" {
			o.status, o.body = 400, errBody("INVALID_ARGUMENT", "a prefix delete needs a prefix: deleting every key at once is not offered")
			return
		}
		names := f.keyNamesLocked(prefix, "")
		if len(names) > limit {
			names = names[:limit]
		}
		for _, n := range names {
			f.deleteKeyLocked(n, sid, "")
		}
		o.status, o.body = 200, map[string]any{"prefix": prefix, "deleted": len(names), "more": len(names) == limit}
		return
	}
	op := map[string]any{"type": strings.TrimPrefix(path, "/api/v1/keys/")}
	for k, v := range body {
		op[k] = v
	}
	if status, e := f.refusedLocked(sid, op); status != 0 {
		o.status, o.body = status, e
		return
	}
	o.status, o.body = 200, f.applyLocked(sid, op)
	o.body["key"] = str(body, "key")
}

func (f *fakeCluster) refusedLocked(sid string, op map[string]any) (int, map[string]any) {
	key := str(op, "key")
	v := f.keys[key].version
	expected, has := op["expectedVersion"]
	t := str(op, "type")
	if (t == "put" || t == "delete") && has && num(op, "expectedVersion") != -1 && num(op, "expectedVersion") != v {
		e := errBody("CONFLICT", fmt.Sprintf("%s is at version %d, not %v", key, v, expected))
		e["error"].(map[string]any)["currentVersion"] = v
		return 409, e
	}
	if t == "put" && op["attach"] == true {
		n := 0
		for _, k := range f.keys {
			if k.owner == sid {
				n++
			}
		}
		if n >= f.keyQuota {
			return 429, errBody("QUOTA_EXCEEDED", fmt.Sprintf("the session has %d keys; the limit is %d", n, f.keyQuota))
		}
	}
	if k, ok := f.keys[key]; t == "add" && ok {
		if raw, _ := base64.StdEncoding.DecodeString(k.value); len(raw) != 8 {
			return 400, errBody("INVALID_ARGUMENT", fmt.Sprintf("%s holds %d bytes, not a counter (exactly 8 bytes)", key, len(raw)))
		}
	}
	return 0, nil
}

func (f *fakeCluster) applyLocked(sid string, op map[string]any) map[string]any {
	key := str(op, "key")
	old, present := f.keys[key]
	switch str(op, "type") {
	case "get":
		if !present {
			return map[string]any{"version": 0}
		}
		return map[string]any{"version": old.version, "value": old.value}
	case "delete":
		if present {
			f.deleteKeyLocked(key, sid, "")
		}
		return map[string]any{"version": old.version}
	case "add":
		var n int64
		if present {
			raw, _ := base64.StdEncoding.DecodeString(old.value)
			n = int64(binary.BigEndian.Uint64(raw))
		}
		n += num(op, "delta")
		raw := make([]byte, 8)
		binary.BigEndian.PutUint64(raw, uint64(n))
		f.setKeyLocked(key, sid, fakeKey{old.version + 1, base64.StdEncoding.EncodeToString(raw), old.owner})
		return map[string]any{"version": old.version + 1, "value": n, "counter": n}
	}
	owner := ""
	if op["attach"] == true {
		owner = sid
	} else if op["detach"] != true && num(op, "ttlMillis") == 0 {
		owner = old.owner // keeps the key's lifetime
	}
	f.setKeyLocked(key, sid, fakeKey{old.version + 1, str(op, "value"), owner})
	return map[string]any{"version": old.version + 1}
}

func (f *fakeCluster) setKeyLocked(key, sid string, k fakeKey) {
	f.keys[key] = k
	f.changeLocked(map[string]any{"type": "registerSet", "name": key, "sessionId": sid, "version": k.version, "value": k.value})
}

func (f *fakeCluster) deleteKeyLocked(key, sid, cause string) {
	ev := map[string]any{"type": "registerDeleted", "name": key, "sessionId": sid, "version": f.keys[key].version}
	if cause != "" {
		ev["cause"] = cause
	}
	delete(f.keys, key)
	f.changeLocked(ev)
}

// endSessionKeysLocked deletes the keys attached to sid with cause.
func (f *fakeCluster) endSessionKeysLocked(sid, cause string) {
	for _, n := range f.keyNamesLocked("", "") {
		if f.keys[n].owner == sid {
			f.deleteKeyLocked(n, sid, cause)
		}
	}
}

// expire ends session sid as if its heartbeats had stopped.
func (f *fakeCluster) expire(sid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sessions[sid].closed = true
	f.endSessionKeysLocked(sid, "sessionExpired")
	f.eventLocked(sid, map[string]any{"type": "sessionExpired"})
	f.changedLocked()
}

func (f *fakeCluster) holdsLocked(c map[string]any) bool {
	k, ok := f.keys[str(c, "key")]
	switch str(c, "type") {
	case "absent":
		return !ok
	case "value":
		return ok && k.value == str(c, "value")
	}
	want := num(c, "version")
	switch str(c, "order") {
	case "equal":
		return k.version == want
	case "notEqual":
		return k.version != want
	case "less":
		return k.version < want
	}
	return k.version > want
}

func (f *fakeCluster) txnLocked(sid string, body map[string]any, o *fakeOutcome) {
	succeeded := true
	for _, c := range body["compares"].([]any) {
		succeeded = succeeded && f.holdsLocked(c.(map[string]any))
	}
	branch := "otherwise"
	if succeeded {
		branch = "then"
	}
	ops := body[branch].([]any)
	for i, op := range ops {
		if status, e := f.refusedLocked(sid, op.(map[string]any)); status != 0 {
			msg := e["error"].(map[string]any)
			msg["message"] = fmt.Sprintf("%s op %d: %s", branch, i+1, msg["message"])
			o.status, o.body = status, e
			return
		}
	}
	results := []any{}
	for _, op := range ops {
		r := f.applyLocked(sid, op.(map[string]any))
		if str(op.(map[string]any), "type") == "add" {
			delete(r, "value")
		}
		results = append(results, r)
	}
	o.status, o.body = 200, map[string]any{"succeeded": succeeded, "results": results}
}
