package holdfast

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeCluster is an in-process stand-in for a Holdfast cluster speaking
// docs/protocol.md, just enough to test the library's side of it: leader
// following (the members that do not lead answer NOT_LEADER, as an older
// build's do; with followersServe they serve sessions as the leader does, as
// a member that forwards to the leader, all but /api/v1/members), request ids and their remembered answers, waits that outlive a
// dropped connection, cancel, the event stream, registers, watches (at every
// member, from one record of changes) and the reads elections use (locks/{name},
// elections/{name}). Exclusive locks only.
type fakeCluster struct {
	t       *testing.T
	mu      sync.Mutex
	servers []*httptest.Server
	ids     []string
	leader  int

	followersServe bool      // members that do not lead serve all but /api/v1/members
	hits           []fakeHit // every request, as it arrived

	sessions    map[string]*fakeSession
	holders     map[string]fakeGrant
	nextToken   int64
	registers   map[string]fakeRegister
	requests    []fakeRequest  // every numbered request, as it arrived
	drop        map[string]int // path -> answers to drop (applied, then the connection closed)
	keepalive   int            // status to answer keepalives with; 0: 200
	refuseOpens bool           // session opens are answered 503 UNAVAILABLE
	refusePuts  bool           // key puts are answered 503 UNAVAILABLE (a service gone again)
	refusedPuts int            // key puts so answered
	silentOpens map[int]bool   // nodes that never answer a session open (it waits until the client gives up)
	changed     chan struct{}  // closed and replaced on every change

	changes     []map[string]any // watch events; the position after changes[i] is "<i+1>.0"
	changesFrom int              // positions before this index are forgotten: they gap
	down        map[int]bool     // nodes whose watch polls end without an answer
	refuseKeys  map[string]bool  // register keys whose writes are refused CONFLICT
	keys        map[string]fakeKey
	keyQuota    int // keys attached to one session
	stateLimit  int // the most keys of a watch's state ("more" beyond, as the server cuts one to fit a frame); 0: all
}

// fakeHit is one request: at which node, to which path.
type fakeHit struct {
	node int
	path string
}

type fakeSession struct {
	id       string
	ttl      int64
	outcomes map[int64]*fakeOutcome
	events   []map[string]any
	closed   bool
}

type fakeOutcome struct {
	done      chan struct{}
	cancelled chan struct{}
	status    int
	body      map[string]any
}

type fakeGrant struct {
	session string
	token   int64
}

type fakeRegister struct {
	version int64
	value   string
}

type fakeRequest struct {
	node       int
	path       string
	requestID  int64
	ackedBelow int64
	body       map[string]any
}

func newFakeCluster(t *testing.T, nodes, leader int) *fakeCluster {
	f := &fakeCluster{
		t: t, leader: leader, sessions: map[string]*fakeSession{}, holders: map[string]fakeGrant{},
		nextToken: 100, registers: map[string]fakeRegister{}, drop: map[string]int{}, changed: make(chan struct{}),
		down: map[int]bool{}, silentOpens: map[int]bool{}, refuseKeys: map[string]bool{}, keys: map[string]fakeKey{}, keyQuota: 10000,
	}
	for i := 0; i < nodes; i++ {
		i := i
		f.ids = append(f.ids, fmt.Sprintf("n%d", i+1))
		f.servers = append(f.servers, httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f.serve(i, w, r)
		})))
	}
	t.Cleanup(func() {
		for _, s := range f.servers {
			s.CloseClientConnections()
			s.Close()
		}
	})
	return f
}

func (f *fakeCluster) urls() []string {
	var out []string
	for _, s := range f.servers {
		out = append(out, s.URL)
	}
	return out
}

// changedLocked wakes the long polls and waits.
func (f *fakeCluster) changedLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// changeLocked records a change for the watches.
func (f *fakeCluster) changeLocked(ev map[string]any) {
	ev["position"] = strconv.Itoa(len(f.changes)+1) + ".0"
	f.changes = append(f.changes, ev)
	f.changedLocked()
}

// forgetChanges makes every older position a gap, as a member that restarted.
func (f *fakeCluster) forgetChanges() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changeLocked(map[string]any{"type": "_snapshot", "name": ""})
	f.changesFrom = len(f.changes)
}

func (f *fakeCluster) lockViewLocked(name string) map[string]any {
	g, ok := f.holders[name]
	if !ok {
		return nil
	}
	return map[string]any{"name": name, "semaphore": false, "maxPermits": 1, "waiters": []any{},
		"holders": []any{map[string]any{"sessionId": g.session, "token": g.token, "mode": "exclusive", "permits": 1}}}
}

func (f *fakeCluster) eventLocked(sid string, ev map[string]any) {
	s := f.sessions[sid]
	if s == nil {
		return
	}
	ev["position"] = strconv.Itoa(len(s.events) + 1)
	s.events = append(s.events, ev)
	f.changedLocked()
}

// revoke takes the lock away from its holder and tells it.
func (f *fakeCluster) revoke(name string, withEvent bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.holders[name]
	if !ok {
		return
	}
	delete(f.holders, name)
	f.changeLocked(map[string]any{"type": "released", "name": name, "sessionId": g.session, "token": g.token, "mode": "exclusive", "cause": "revoked"})
	if withEvent {
		f.eventLocked(g.session, map[string]any{"type": "lost", "name": name, "token": g.token, "reason": "revoked"})
	}
	f.changedLocked()
}

// hold grants name to a session that is not the client's.
func (f *fakeCluster) hold(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextToken++
	f.holders[name] = fakeGrant{session: "other", token: f.nextToken}
}

func (f *fakeCluster) free(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.holders, name)
	f.changedLocked()
}

// held reports whether the lock name has a holder.
func (f *fakeCluster) held(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, held := f.holders[name]
	return held
}

func (f *fakeCluster) seen(path string) []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeRequest
	for _, r := range f.requests {
		if r.path == path {
			out = append(out, r)
		}
	}
	return out
}

// nodesHit lists the node of every request but GET /status, in order.
func (f *fakeCluster) nodesHit() []int {
	return f.nodesHitAt(func(path string) bool { return path != "/status" })
}

// nodesHitAt lists the node of every request whose path keep keeps, in order.
func (f *fakeCluster) nodesHitAt(keep func(path string) bool) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for _, h := range f.hits {
		if keep(h.path) {
			out = append(out, h.node)
		}
	}
	return out
}

func (f *fakeCluster) allRequests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.requests...)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func errBody(code, msg string) map[string]any {
	return map[string]any{"error": map[string]any{"code": code, "message": msg}}
}

func num(m map[string]any, k string) int64 {
	v, _ := m[k].(float64)
	return int64(v)
}

func str(m map[string]any, k string) string {
	v, _ := m[k].(string)
	return v
}

func (f *fakeCluster) serve(node int, w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	f.mu.Lock()
	f.hits = append(f.hits, fakeHit{node, path})
	f.mu.Unlock()
	if path == "/status" {
		writeJSON(w, 200, map[string]any{"id": f.ids[node]})
		return
	}
	var body map[string]any
	if r.Body != nil {
		_ = json.NewDecoder(r.Body).Decode(&body)
	}
	if strings.HasSuffix(path, "/events") {
		f.events(w, r)
		return
	}
	f.mu.Lock()
	silent := r.Method == "POST" && path == "/api/v1/sessions" && f.silentOpens[node]
	f.mu.Unlock()
	if silent {
		<-r.Context().Done()
		return
	}
	if path == "/api/v1/watch" {
		f.watch(node, w, r)
		return
	}
	f.mu.Lock()
	if node != f.leader && (!f.followersServe || path == "/api/v1/members") {
		var leader any
		if f.leader >= 0 {
			leader = f.ids[f.leader]
		}
		f.mu.Unlock()
		e := errBody("NOT_LEADER", f.ids[node]+" does not lead")
		e["error"].(map[string]any)["leader"] = leader
		writeJSON(w, 503, e)
		return
	}
	if _, ok := body["requestId"]; ok {
		f.requests = append(f.requests, fakeRequest{node, path, num(body, "requestId"), num(body, "ackedBelow"), body})
	}
	f.mu.Unlock()

	if f.serveKeys(w, r) {
		return
	}
	switch {
	case path == "/api/v1/members":
		writeJSON(w, 200, map[string]any{"members": f.ids})
	case path == "/api/v1/sessions" && r.Method == "POST":
		f.mu.Lock()
		if f.refuseOpens {
			f.mu.Unlock()
			writeJSON(w, 503, errBody("UNAVAILABLE", "no session is opened now"))
			return
		}
		id := str(body, "sessionId")
		if f.sessions[id] == nil {
			f.sessions[id] = &fakeSession{id: id, ttl: num(body, "ttlMillis"), outcomes: map[int64]*fakeOutcome{}}
		}
		f.mu.Unlock()
		writeJSON(w, 201, map[string]any{"sessionId": id, "ttlMillis": num(body, "ttlMillis")})
	case strings.HasSuffix(path, "/keepalive"):
		f.mu.Lock()
		status := f.keepalive
		f.mu.Unlock()
		if status == 0 || status == 200 {
			writeJSON(w, 200, map[string]any{})
		} else {
			writeJSON(w, status, errBody(codeForStatus(status), "keepalive refused"))
		}
	case r.Method == "DELETE" && strings.HasPrefix(path, "/api/v1/sessions/"):
		id := strings.TrimPrefix(path, "/api/v1/sessions/")
		f.mu.Lock()
		if s := f.sessions[id]; s != nil {
			s.closed = true
		}
		for name, g := range f.holders {
			if g.session == id {
				delete(f.holders, name)
				f.changeLocked(map[string]any{"type": "released", "name": name, "sessionId": id, "token": g.token, "mode": "exclusive", "cause": "sessionClosed"})
			}
		}
		f.endSessionKeysLocked(id, "sessionClosed")
		f.changedLocked()
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{"closed": id})
	case path == "/api/v1/fence":
		tok, _ := strconv.ParseInt(r.URL.Query().Get("token"), 10, 64)
		name := r.URL.Query().Get("name")
		f.mu.Lock()
		g, ok := f.holders[name]
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{"name": name, "token": tok, "current": ok && g.token == tok})
	case strings.HasPrefix(path, "/api/v1/locks/"):
		f.mu.Lock()
		view := f.lockViewLocked(strings.TrimPrefix(path, "/api/v1/locks/"))
		f.mu.Unlock()
		if view == nil {
			writeJSON(w, 404, errBody("NOT_FOUND", "no such lock is held or waited for"))
			return
		}
		writeJSON(w, 200, map[string]any{"lock": view})
	case strings.HasPrefix(path, "/api/v1/elections/"):
		name := strings.TrimPrefix(path, "/api/v1/elections/")
		f.mu.Lock()
		g, held := f.holders[name]
		reg := f.registers[name]
		f.mu.Unlock()
		if !held {
			writeJSON(w, 404, errBody("NOT_FOUND", "nobody leads the election "+name+" now"))
			return
		}
		raw, _ := base64.StdEncoding.DecodeString(reg.value)
		var value any // null: not proclaimed yet
		if epoch, v, ok := proclaimed(raw); ok && epoch == g.token {
			value = v
		}
		writeJSON(w, 200, map[string]any{"election": map[string]any{"name": name, "epoch": g.token, "sessionId": g.session, "value": value}})
	case strings.HasPrefix(path, "/api/v1/registers/") && r.Method == "GET":
		key := strings.TrimPrefix(path, "/api/v1/registers/")
		f.mu.Lock()
		reg, ok := f.registers[key]
		f.mu.Unlock()
		if !ok {
			writeJSON(w, 404, errBody("NOT_FOUND", key+" was never written"))
			return
		}
		writeJSON(w, 200, map[string]any{"key": key, "version": reg.version, "value": reg.value})
	case path == "/api/v1/keys/put" && f.refusingPut():
		writeJSON(w, 503, errBody("UNAVAILABLE", "no key is written now"))
	default:
		f.numbered(w, r, path, body)
	}
}

// refusingPut reports whether a key put is refused now, and counts it.
func (f *fakeCluster) refusingPut() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refusePuts {
		f.refusedPuts++
	}
	return f.refusePuts
}

// numbered answers a numbered request from its remembered outcome, making
// it on first sight.
func (f *fakeCluster) numbered(w http.ResponseWriter, r *http.Request, path string, body map[string]any) {
	sid := str(body, "session")
	id := num(body, "requestId")
	f.mu.Lock()
	s := f.sessions[sid]
	if s == nil || s.closed {
		f.mu.Unlock()
		writeJSON(w, 410, errBody("SESSION_EXPIRED", "session "+sid+" is unknown"))
		return
	}
	o := s.outcomes[id]
	if o == nil {
		o = &fakeOutcome{done: make(chan struct{}), cancelled: make(chan struct{})}
		s.outcomes[id] = o
		go f.decide(sid, id, path, body, o)
	}
	drop := f.drop[path] > 0
	if drop {
		f.drop[path]--
	}
	f.mu.Unlock()
	select {
	case <-o.done:
	case <-r.Context().Done():
		return
	}
	if drop {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	writeJSON(w, o.status, o.body)
}

func (f *fakeCluster) decide(sid string, id int64, path string, body map[string]any, o *fakeOutcome) {
	defer close(o.done)
	name := str(body, "name")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch path {
	case "/api/v1/acquire":
		deadline := time.Now().Add(time.Duration(num(body, "waitMillis")) * time.Millisecond)
		queued := false
		for {
			if _, held := f.holders[name]; !held {
				f.nextToken++
				f.holders[name] = fakeGrant{session: sid, token: f.nextToken}
				f.changeLocked(map[string]any{"type": "acquired", "name": name, "sessionId": sid, "token": f.nextToken, "mode": "exclusive"})
				o.status, o.body = 200, map[string]any{"name": name, "granted": true, "token": f.nextToken, "requestId": id}
				return
			}
			if s := f.sessions[sid]; s == nil || s.closed { // the session ended while it waited
				o.status, o.body = 410, errBody("SESSION_EXPIRED", "session "+sid+" is gone")
				return
			}
			left := time.Until(deadline)
			if left <= 0 {
				if queued {
					f.changeLocked(map[string]any{"type": "waitEnded", "name": name, "sessionId": sid, "mode": "exclusive", "cause": "timedOut"})
				}
				o.status, o.body = 409, errBody("TIMEOUT", name+" was not granted within the wait")
				return
			}
			if !queued {
				queued = true
				f.changeLocked(map[string]any{"type": "queued", "name": name, "sessionId": sid, "mode": "exclusive"})
			}
			changed := f.changed
			f.mu.Unlock()
			select {
			case <-changed:
			case <-time.After(left):
			case <-o.cancelled:
				f.mu.Lock()
				o.status, o.body = 409, errBody("TIMEOUT", name+": the wait was cancelled")
				return
			}
			f.mu.Lock()
		}
	case "/api/v1/release", "/api/v1/renew":
		g, ok := f.holders[name]
		if !ok || g.session != sid || g.token != num(body, "token") {
			o.status, o.body = 409, errBody("NOT_OWNER", name+" is not held with that token")
			return
		}
		if path == "/api/v1/release" {
			delete(f.holders, name)
			f.changeLocked(map[string]any{"type": "released", "name": name, "sessionId": sid, "token": g.token, "mode": "exclusive", "cause": "released"})
			o.status, o.body = 200, map[string]any{"name": name, "released": true}
		} else {
			o.status, o.body = 200, map[string]any{"name": name, "renewed": true}
		}
	case "/api/v1/cancel":
		w := f.sessions[sid].outcomes[num(body, "waitRequestId")]
		o.status = 200
		if w == nil {
			o.body = map[string]any{"name": name, "cancelled": false}
			return
		}
		select {
		case <-w.done:
			if w.status == 200 {
				o.body = map[string]any{"name": name, "cancelled": false, "token": w.body["token"]}
			} else {
				o.body = map[string]any{"name": name, "cancelled": false}
			}
		default:
			close(w.cancelled)
			o.body = map[string]any{"name": name, "cancelled": true}
		}
	case "/api/v1/registers/set":
		key := str(body, "key")
		reg := f.registers[key]
		if reg.version != num(body, "expectedVersion") || f.refuseKeys[key] {
			e := errBody("CONFLICT", fmt.Sprintf("%s is at version %d, not %d", key, reg.version, num(body, "expectedVersion")))
			e["error"].(map[string]any)["currentVersion"] = reg.version
			o.status, o.body = 409, e
			return
		}
		if fence := str(body, "fenceName"); fence != "" {
			if g, ok := f.holders[fence]; !ok || g.token != num(body, "fenceToken") {
				o.status, o.body = 409, errBody("CONFLICT", "the fence "+fence+" is not current")
				return
			}
		}
		f.registers[key] = fakeRegister{reg.version + 1, str(body, "value")}
		f.changeLocked(map[string]any{"type": "registerSet", "name": key, "sessionId": sid, "version": reg.version + 1, "value": str(body, "value")})
		o.status, o.body = 200, map[string]any{"key": key, "version": reg.version + 1}
	default:
		if strings.HasPrefix(path, "/api/v1/keys/") || path == "/api/v1/txn" {
			f.decideKeys(sid, path, body, o)
			return
		}
		o.status, o.body = 404, errBody("NOT_FOUND", "no route "+path)
	}
}

func (f *fakeCluster) events(w http.ResponseWriter, r *http.Request) {
	sid := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/sessions/"), "/events")
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	waitMillis, _ := strconv.Atoi(r.URL.Query().Get("waitMillis"))
	deadline := time.Now().Add(time.Duration(waitMillis) * time.Millisecond)
	for {
		f.mu.Lock()
		s := f.sessions[sid]
		if s == nil {
			f.mu.Unlock()
			writeJSON(w, 404, errBody("NOT_FOUND", "no session "+sid))
			return
		}
		if len(s.events) > after || time.Now().After(deadline) {
			evs := append([]map[string]any{}, s.events[after:]...)
			f.mu.Unlock()
			writeJSON(w, 200, map[string]any{"sessionId": sid, "events": evs, "next": strconv.Itoa(after + len(evs)), "gap": false})
			return
		}
		changed := f.changed
		f.mu.Unlock()
		select {
		case <-changed:
		case <-time.After(time.Until(deadline)):
		case <-r.Context().Done():
			return
		}
	}
}

// watch answers GET /api/v1/watch from the record of changes, at any node.
func (f *fakeCluster) watch(node int, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	kind := ""
	for _, k := range []string{"lock", "prefix", "register", "keys"} {
		if q.Has(k) {
			if kind != "" {
				writeJSON(w, 400, errBody("INVALID_ARGUMENT", "one of lock, prefix, register"))
				return
			}
			kind = k
		}
	}
	name := q.Get(kind)
	if kind == "" || (kind != "prefix" && kind != "keys" && name == "") {
		writeJSON(w, 400, errBody("INVALID_ARGUMENT", "one of lock, prefix, register"))
		return
	}
	if strings.HasPrefix(name, "secret/") {
		writeJSON(w, 403, errBody("PERMISSION_DENIED", "may not read "+name))
		return
	}
	concerns := func(ev map[string]any) bool {
		t, n := str(ev, "type"), str(ev, "name")
		switch {
		case t == "_snapshot":
			return false
		case kind == "register":
			return t == "registerSet" && n == name
		case kind == "keys":
			return strings.HasPrefix(t, "register") && strings.HasPrefix(n, name)
		case strings.HasPrefix(t, "register"):
			return false
		case kind == "lock":
			return n == name
		}
		return strings.HasPrefix(n, name)
	}
	after := -1
	if a := q.Get("after"); a != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(a, ".0"))
		if err != nil {
			writeJSON(w, 400, errBody("INVALID_ARGUMENT", "bad position "+a))
			return
		}
		after = n
	}
	waitMillis, _ := strconv.Atoi(q.Get("waitMillis"))
	deadline := time.Now().Add(time.Duration(waitMillis) * time.Millisecond)
	for {
		f.mu.Lock()
		if f.down[node] {
			f.mu.Unlock()
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		next := strconv.Itoa(len(f.changes)) + ".0"
		if after < f.changesFrom {
			answer := map[string]any{"watch": kind, "name": name, "gap": true, "next": next, "events": []any{}}
			if kind == "keys" {
				keys := f.keysStateLocked(name)
				if f.stateLimit > 0 && len(keys) > f.stateLimit {
					keys, answer["more"] = keys[:f.stateLimit], true
				}
				answer["keys"] = keys
			} else if kind == "register" {
				reg, ok := f.registers[name]
				var value any
				if ok {
					value = reg.value
				}
				answer["register"] = map[string]any{"key": name, "version": reg.version, "value": value}
			} else {
				locks := []any{}
				for n := range f.holders {
					if n == name || (kind == "prefix" && strings.HasPrefix(n, name)) {
						locks = append(locks, f.lockViewLocked(n))
					}
				}
				answer["locks"] = locks
			}
			f.mu.Unlock()
			writeJSON(w, 200, answer)
			return
		}
		var evs []map[string]any
		for _, ev := range f.changes[after:] {
			if concerns(ev) {
				evs = append(evs, ev)
			}
		}
		if len(evs) > 0 || time.Now().After(deadline) {
			f.mu.Unlock()
			writeJSON(w, 200, map[string]any{"watch": kind, "name": name, "gap": false, "next": next, "events": evs})
			return
		}
		changed := f.changed
		f.mu.Unlock()
		select {
		case <-changed:
		case <-time.After(50 * time.Millisecond): // to see a node go down
		case <-r.Context().Done():
			return
		}
	}
}
