package holdfast

// The integration test runs against a real server: set HOLDFAST_JAR to the
// server jar (java must be on the PATH). It starts one node on ports
// 23011-23013 with a data directory under the test's temporary directory,
// waits for GET /ready, runs its checks and kills the node. Without
// HOLDFAST_JAR it is skipped. Besides locks, waits, revokes, retries, leases
// and registers it covers watches (each change with its cause, AwaitFree)
// and elections.
//
//	HOLDFAST_JAR=/path/to/holdfast.jar go test -run Integration -v .

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

const (
	itClientPort = "23011"
	itRaftPort   = "23012"
	itHTTPPort   = "23013"
	itBase       = "http://127.0.0.1:" + itHTTPPort
)

func startServer(t *testing.T) {
	t.Helper()
	jar := os.Getenv("HOLDFAST_JAR")
	if jar == "" {
		t.Skip("HOLDFAST_JAR is not set: the integration test needs the server jar (the conformance suite is what CI relies on)")
	}
	dir := t.TempDir()
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("java", "-XX:+UseSerialGC", "-jar", jar, "server",
		"--id", "n1", "--data-dir", filepath.Join(dir, "n1"),
		"--client-port", itClientPort, "--raft-port", itRaftPort, "--http-port", itHTTPPort)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the server: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logFile.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logFile.Name()); err == nil {
				t.Logf("server log:\n%s", lastBytes(b, 4000))
			}
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(itBase + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-exited:
			t.Fatalf("the server exited before it was ready")
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server was not ready within 60 s")
		}
	}
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// lockView is GET /api/v1/locks/{name}.
type lockView struct {
	Lock struct {
		Holders []struct {
			SessionID string `json:"sessionId"`
			Token     int64  `json:"token"`
		} `json:"holders"`
		Waiters []json.RawMessage `json:"waiters"`
	} `json:"lock"`
}

func describeLock(t *testing.T, name string) lockView {
	t.Helper()
	resp, err := http.Get(itBase + "/api/v1/locks/" + escapePath(name))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v lockView
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
	}
	return v
}

func itClient(t *testing.T, members ...string) *Client {
	t.Helper()
	if len(members) == 0 {
		members = []string{itBase}
	}
	c, err := New(context.Background(), Config{Members: members, SessionTTL: 5 * time.Second, ClientName: t.Name(), Logf: t.Logf})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestIntegration(t *testing.T) {
	startServer(t)
	ctx := context.Background()

	t.Run("open-acquire-wait-release", func(t *testing.T) {
		a, b := itClient(t), itClient(t)
		la, err := a.Lock(ctx, "it/mutex")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Lock(ctx, "it/mutex"); !errors.Is(err, ErrLockTimeout) {
			t.Fatalf("second holder: %v, want TIMEOUT", err)
		}
		time.AfterFunc(300*time.Millisecond, func() { _ = la.Release() })
		start := time.Now()
		lb, err := b.Lock(ctx, "it/mutex", Wait(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 250*time.Millisecond || d > 3*time.Second {
			t.Fatalf("granted after %v", d)
		}
		if lb.FencingToken() <= la.FencingToken() {
			t.Fatalf("token %d not above %d", lb.FencingToken(), la.FencingToken())
		}
		if cur, err := b.IsCurrent(ctx, "it/mutex", lb.FencingToken()); err != nil || !cur {
			t.Fatalf("current: %v %v", cur, err)
		}
		if cur, err := b.IsCurrent(ctx, "it/mutex", la.FencingToken()); err != nil || cur {
			t.Fatalf("old token current: %v %v", cur, err)
		}
		if v := describeLock(t, "it/mutex"); len(v.Lock.Holders) != 1 || v.Lock.Holders[0].SessionID != b.SessionID() {
			t.Fatalf("holders %+v", v.Lock.Holders)
		}
		if err := lb.Release(); err != nil {
			t.Fatal(err)
		}
		if err := lb.Release(); err != nil {
			t.Fatalf("second release: %v", err)
		}
		if _, err := b.Lock(ctx, "it/x/../y"); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("bad name: %v", err)
		}
		if _, err := b.Semaphore(ctx, "it/sem", 0, 3); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("0 permits: %v", err)
		}
		s1, err := a.Semaphore(ctx, "it/sem", 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Semaphore(ctx, "it/sem", 2, 3); !errors.Is(err, ErrLockTimeout) {
			t.Fatalf("over the permits: %v", err)
		}
		s2, err := b.Semaphore(ctx, "it/sem", 1, 3)
		if err != nil {
			t.Fatal(err)
		}
		_ = s1.Release()
		_ = s2.Release()
		r1, err := a.Lock(ctx, "it/rw", Shared())
		if err != nil {
			t.Fatal(err)
		}
		r2, err := b.Lock(ctx, "it/rw", Shared())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = r1.Release(), r2.Release()
		all, err := a.LockAll(ctx, []string{"it/m/b", "it/m/a"})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all[0].Name() != "it/m/a" || all.Tokens()["it/m/b"] == 0 {
			t.Fatalf("leases %v", all)
		}
		if err := all.Release(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("revoke-reported", func(t *testing.T) {
		c := itClient(t)
		lost := make(chan LossReason, 1)
		l, err := c.Lock(ctx, "it/revoke", OnLost(func(_ *Lease, r LossReason) { lost <- r }))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		start := time.Now()
		resp, err := http.Post(itBase+"/api/v1/revoke", "application/json", bytes.NewBufferString(`{"name":"it/revoke"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		select {
		case r := <-lost:
			if r != LossRevoked {
				t.Fatalf("reason %q", r)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("reported after %v", d)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("the revoke was not reported")
		}
		if l.Valid() || !errors.Is(l.Err(), ErrLockLost) {
			t.Fatalf("valid %v err %v", l.Valid(), l.Err())
		}
		if err := l.Release(); err != nil {
			t.Fatalf("release after the loss: %v", err)
		}
	})

	t.Run("retry-with-same-request-id", func(t *testing.T) {
		target, _ := url.Parse(itBase)
		rp := httputil.NewSingleHostReverseProxy(target)
		var mu sync.Mutex
		var acquires [][]byte
		dropped := false
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/api/v1/acquire" {
				rp.ServeHTTP(w, r)
				return
			}
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			acquires = append(acquires, body)
			drop := !dropped
			dropped = true
			mu.Unlock()
			if !drop {
				r.Body = io.NopCloser(bytes.NewReader(body))
				rp.ServeHTTP(w, r)
				return
			}
			// Forward it, then drop the answer: close the connection.
			resp, err := http.Post(itBase+r.URL.Path, "application/json", bytes.NewReader(body))
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}))
		defer proxy.Close()
		c := itClient(t, proxy.URL)
		defer c.Close() // before the proxy closes
		l, err := c.Lock(ctx, "it/retry", Wait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(acquires) != 2 {
			t.Fatalf("%d acquires went through the proxy, want 2", len(acquires))
		}
		var first, second map[string]any
		_ = json.Unmarshal(acquires[0], &first)
		_ = json.Unmarshal(acquires[1], &second)
		if first["requestId"] != second["requestId"] || first["requestId"] == nil {
			t.Fatalf("request ids %v and %v, want the same", first["requestId"], second["requestId"])
		}
		v := describeLock(t, "it/retry")
		if len(v.Lock.Holders) != 1 || v.Lock.Holders[0].Token != l.FencingToken() {
			t.Fatalf("holders %+v, lease token %d", v.Lock.Holders, l.FencingToken())
		}
	})

	t.Run("cancel-withdraws-the-wait", func(t *testing.T) {
		a, b := itClient(t), itClient(t)
		la, err := a.Lock(ctx, "it/cancel")
		if err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		_, err = b.Lock(cctx, "it/cancel", Wait(20*time.Second))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
		if v := describeLock(t, "it/cancel"); len(v.Lock.Waiters) != 0 {
			t.Fatalf("waiters left: %s", v.Lock.Waiters)
		}
		_ = la.Release()
		if v := describeLock(t, "it/cancel"); len(v.Lock.Holders) != 0 {
			t.Fatalf("holders after the release: %+v", v.Lock.Holders)
		}
	})

	t.Run("lease-renewed-and-registers", func(t *testing.T) {
		c := itClient(t)
		l, err := c.Lock(ctx, "it/lease", LeaseTimeout(1500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2500 * time.Millisecond)
		if cur, err := c.IsCurrent(ctx, "it/lease", l.FencingToken()); err != nil || !cur || !l.Valid() {
			t.Fatalf("after 2.5 s of a 1.5 s lease: current %v valid %v err %v", cur, l.Valid(), err)
		}
		r := c.Register("it/reg")
		if v, val, err := r.Get(ctx); err != nil || v != 0 || val != nil {
			t.Fatalf("absent: %d %q %v", v, val, err)
		}
		v, err := r.CompareAndSet(ctx, 0, []byte("one"), FencedBy(l))
		if err != nil || v != 1 {
			t.Fatalf("set: %d %v", v, err)
		}
		_, err = r.CompareAndSet(ctx, 0, []byte("two"))
		var he *Error
		if !errors.Is(err, ErrConflict) || !errors.As(err, &he) || he.CurrentVersion != 1 {
			t.Fatalf("conflict: %v", err)
		}
		if v, val, err := r.Get(ctx); err != nil || v != 1 || string(val) != "one" {
			t.Fatalf("get: %d %q %v", v, val, err)
		}
		_ = l.Release()
		if _, err := r.CompareAndSet(ctx, 1, []byte("three"), FencedBy(l)); err == nil {
			t.Fatal("a write fenced by a released lease was accepted")
		} else {
			t.Logf("fenced write after release: %v", err)
		}
	})

	t.Run("watch-each-change-with-its-cause", func(t *testing.T) {
		w, a, b := itClient(t), itClient(t), itClient(t)
		watch, err := w.Watch(ctx, WatchLock("it/watched"))
		if err != nil {
			t.Fatal(err)
		}
		defer watch.Close()
		reg, err := w.Watch(ctx, WatchRegister("it/watched-reg"))
		if err != nil {
			t.Fatal(err)
		}
		defer reg.Close()
		if st := nextEvent(t, watch); st.Type != WatchState || len(st.Holders()) != 0 {
			t.Fatalf("state %+v", st)
		}
		if st := nextEvent(t, reg); st.Type != WatchState || st.Version != 0 {
			t.Fatalf("register state %+v", st)
		}
		held, err := a.Lock(ctx, "it/watched")
		if err != nil {
			t.Fatal(err)
		}
		granted := make(chan *Lease, 1)
		go func() {
			l, err := b.Lock(ctx, "it/watched", Wait(10*time.Second))
			if err != nil {
				t.Error(err)
			}
			granted <- l
		}()
		events := []WatchEvent{nextEvent(t, watch), nextEvent(t, watch)}
		_ = held.Release()
		second := <-granted
		resp, err := http.Post(itBase+"/api/v1/revoke", "application/json", bytes.NewBufferString(`{"name":"it/watched"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		events = append(events, nextEvent(t, watch), nextEvent(t, watch), nextEvent(t, watch))
		want := []WatchEvent{
			{Type: WatchAcquired, Token: held.FencingToken(), SessionID: a.SessionID()},
			{Type: WatchQueued, SessionID: b.SessionID()},
			{Type: WatchReleased, Token: held.FencingToken(), SessionID: a.SessionID(), Cause: "released"},
			{Type: WatchAcquired, Token: second.FencingToken(), SessionID: b.SessionID()},
			{Type: WatchReleased, Token: second.FencingToken(), SessionID: b.SessionID(), Cause: "revoked"},
		}
		for i, e := range events {
			if e.Type != want[i].Type || e.Token != want[i].Token || e.SessionID != want[i].SessionID || e.Cause != want[i].Cause || e.Name != "it/watched" {
				t.Fatalf("event %d: %+v, want %+v", i, e, want[i])
			}
		}
		if _, err := a.Register("it/watched-reg").CompareAndSet(ctx, 0, []byte("one")); err != nil {
			t.Fatal(err)
		}
		if e := nextEvent(t, reg); e.Type != WatchRegisterSet || e.Version != 1 || string(e.Value) != "one" {
			t.Fatalf("register event %+v", e)
		}
		if free, err := w.AwaitFree(ctx, "it/watched", 0); err != nil || !free {
			t.Fatalf("free: %v %v", free, err)
		}
		again, err := a.Lock(ctx, "it/watched")
		if err != nil {
			t.Fatal(err)
		}
		if free, err := w.AwaitFree(ctx, "it/watched", 200*time.Millisecond); err != nil || free {
			t.Fatalf("held: %v %v", free, err)
		}
		time.AfterFunc(300*time.Millisecond, func() { _ = again.Release() })
		if free, err := w.AwaitFree(ctx, "it/watched", 10*time.Second); err != nil || !free {
			t.Fatalf("released: %v %v", free, err)
		}
	})

	t.Run("election", func(t *testing.T) {
		a, b := itClient(t), itClient(t)
		first := firstToLead(t, ctx, a, b, "it/elect", "A")
		resp, err := http.Get(itBase + "/api/v1/elections/it/elect")
		if err != nil {
			t.Fatal(err)
		}
		var view struct {
			Election struct {
				Epoch int64  `json:"epoch"`
				Value string `json:"value"`
			} `json:"election"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&view)
		resp.Body.Close()
		if view.Election.Epoch != first.Epoch() || view.Election.Value != "A" {
			t.Fatalf("the node's view %+v", view)
		}
		won := make(chan *Leadership, 1)
		go func() {
			l, err := b.Election("it/elect").Campaign(ctx, "B", Wait(10*time.Second))
			if err != nil {
				t.Error(err)
			}
			won <- l
		}()
		waitFor(t, "the second candidate to queue", func() bool { return len(describeLock(t, "it/elect").Lock.Waiters) == 1 })
		if err := first.Resign(); err != nil {
			t.Fatal(err)
		}
		second := <-won
		if second == nil || second.Epoch() <= first.Epoch() {
			t.Fatalf("second leadership %v after epoch %d", second, first.Epoch())
		}
		if l, err := a.Election("it/elect").Leader(ctx); err != nil || *l != (Leader{"it/elect", second.Epoch(), "B", true}) {
			t.Fatalf("leader %+v %v", l, err)
		}
		if _, err := a.Register("it/elect").CompareAndSet(ctx, 2, []byte("x"), FencedBy(first.Lease())); !errors.Is(err, ErrConflict) {
			t.Fatalf("the deposed leader's fenced write: %v", err)
		}
		_ = second.Resign()
		if l, err := a.Election("it/elect").Leader(ctx); err != nil || l != nil {
			t.Fatalf("after both resigned: %+v %v", l, err)
		}
	})

	t.Run("close-releases", func(t *testing.T) {
		c, err := New(ctx, Config{Members: []string{itBase}})
		if err != nil {
			t.Fatal(err)
		}
		l, err := c.Lock(ctx, "it/close")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if l.Valid() {
			t.Fatal("valid after close")
		}
		if v := describeLock(t, "it/close"); len(v.Lock.Holders) != 0 {
			t.Fatalf("held after close: %+v", v.Lock.Holders)
		}
	})
}
