package holdfast

import (
	"context"
	"sync"
)

// Observation follows who leads an election (Election.Observe).
type Observation struct {
	election string
	lock     *Watch
	register *Watch
	leaders  chan *Leader
	cancel   context.CancelFunc

	mu     sync.Mutex
	closed bool
	err    error
}

// Observe follows who leads, like the Java client's Election.observe:
// Leaders() delivers who leads now (nil: nobody), then each change in epoch
// order: a new leader (Proclaimed false until it writes its value, then
// delivered again with it), or nil once the leader is gone. Epochs never go
// back.
//
// It stands on two watches (Client.Watch), of the election's lock and of
// its register, and has their guarantees: across a reconnection or the
// cluster leader's death no leadership is missed. It runs until ctx ends,
// Close is called, or the client ends; Leaders() is then closed and Err says
// why. It fails at once for the reasons Watch does.
func (e *Election) Observe(ctx context.Context) (*Observation, error) {
	if e.name == "" {
		return nil, invalidArgument("the election's name is empty")
	}
	octx, cancel := context.WithCancel(ctx)
	lock, err := e.c.Watch(octx, WatchLock(e.name))
	if err != nil {
		cancel()
		return nil, err
	}
	register, err := e.c.Watch(octx, WatchRegister(e.name))
	if err != nil {
		cancel()
		return nil, err
	}
	o := &Observation{election: e.name, lock: lock, register: register, leaders: make(chan *Leader), cancel: cancel}
	e.c.tr.spawn(func() { o.run(octx) })
	return o, nil
}

// Leaders delivers who leads (nil: nobody), one change at a time (the
// observation waits for its reader). It is closed when the observation ends.
func (o *Observation) Leaders() <-chan *Leader { return o.leaders }

// Err is why the observation ended: nil while it runs or after Close, else
// the error that ended one of its watches (see Watch.Err).
func (o *Observation) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// Close stops the observation and closes Leaders. Idempotent.
func (o *Observation) Close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	o.cancel()
}

// run merges the two watches, as the Java client's LeaderObserver does:
// the lock says who leads (the holder's token is the epoch), the register
// what the newest leader proclaimed; nothing is told before the lock's state.
func (o *Observation) run(ctx context.Context) {
	defer close(o.leaders)
	defer o.cancel()
	var (
		epoch            int64 // 0: nobody leads
		lockKnown        bool
		procEpoch        int64 = -1 // the newest proclamation's epoch; -1: none
		procValue        string
		told             *Leader
		toldOnce         bool
		lockEv, regEvent = o.lock.Events(), o.register.Events()
	)
	for {
		select {
		case ev, ok := <-lockEv:
			if !ok {
				o.end(o.lock.Err())
				return
			}
			switch ev.Type {
			case WatchState:
				epoch = 0
				for _, l := range ev.Locks {
					if l.Name == o.election && len(l.Holders) > 0 {
						epoch = l.Holders[0].Token
					}
				}
			case WatchAcquired:
				if ev.Token > epoch {
					epoch = ev.Token
				}
			case WatchReleased:
				if ev.Token == epoch {
					epoch = 0
				}
			default:
				continue
			}
			lockKnown = true
		case ev, ok := <-regEvent:
			if !ok {
				o.end(o.register.Err())
				return
			}
			e, v, found := proclaimed(ev.Value)
			if !found || e < procEpoch {
				continue
			}
			procEpoch, procValue = e, v
			if !lockKnown {
				continue
			}
		}
		var now *Leader
		if epoch != 0 {
			now = &Leader{Election: o.election, Epoch: epoch}
			if procEpoch == epoch {
				now.Value, now.Proclaimed = procValue, true
			}
		}
		if toldOnce && (sameLeader(now, told) || (now != nil && told != nil && now.Epoch < told.Epoch)) {
			continue // no change, or back in epochs
		}
		select {
		case o.leaders <- now:
			told, toldOnce = now, true
		case <-ctx.Done():
			for range lockEv { // the lock's watch ends too: its Err is then known
			}
			o.end(o.lock.Err())
			return
		}
	}
}

func sameLeader(a, b *Leader) bool {
	return a == b || (a != nil && b != nil && *a == *b)
}

func (o *Observation) end(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed {
		o.err = err
	}
}
