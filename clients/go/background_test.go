package holdfast

import (
	"context"
	"sync"
	"testing"
	"time"
)

// spawnLog is a Config.Go that notes each start and runs the work in a
// goroutine of its own, as the default does.
type spawnLog struct {
	mu      sync.Mutex
	started int
}

func (s *spawnLog) spawn(f func()) {
	s.mu.Lock()
	s.started++
	s.mu.Unlock()
	go f()
}

func (s *spawnLog) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// TestConfigGoStartsTheClientsBackgroundWork: the heartbeats and the event
// stream, a renewal, a watch, an observation and an OnLost callback are each
// started through Config.Go (sources_test.go checks that no other go
// statement is left in the library).
func TestConfigGoStartsTheClientsBackgroundWork(t *testing.T) {
	spawns := &spawnLog{}
	f, c := openFake(t, 1, 0, Config{Go: spawns.spawn})
	if n := spawns.count(); n != 2 {
		t.Fatalf("New started %d pieces of work through Config.Go, not 2 (heartbeats, events)", n)
	}
	ctx := context.Background()
	step := func(what string, do func()) {
		t.Helper()
		before := spawns.count()
		do()
		if spawns.count() == before {
			t.Errorf("%s started nothing through Config.Go", what)
		}
	}
	step("a lease with a lease timeout (its renewals)", func() {
		mustLock(t, ctx, c, "jobs/renewed", LeaseTimeout(3*time.Second))
	})
	step("a watch", func() {
		w, err := c.Watch(ctx, WatchLock("jobs/renewed"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Close)
	})
	step("an observation", func() {
		o, err := c.Election("svc/x").Observe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(o.Close)
	})
	lost := make(chan LossReason, 1)
	mustLock(t, ctx, c, "jobs/revoked", OnLost(func(_ *Lease, r LossReason) { lost <- r }))
	step("an OnLost callback", func() {
		f.revoke("jobs/revoked", true)
		select {
		case <-lost:
		case <-time.After(3 * time.Second):
			t.Fatal("no loss reported")
		}
	})
}
