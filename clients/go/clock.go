package holdfast

import (
	"context"
	"time"
)

// Clock is where a Client reads the time and waits: every deadline, pause,
// heartbeat, renewal and timeout of the library goes through the one Clock
// of its Client (Config.Clock), so that a test can move time itself instead
// of waiting for it. The timeout of one HTTP attempt is the network's, in
// real time, as a socket's is; everything that decides when to give up or
// try again is on the Clock. Implementations must be safe for concurrent use.
// This file is the only one of the library that reads the system clock
// (sources_test.go holds the others to that).
type Clock interface {
	// Now is the current time; only differences between two readings matter.
	Now() time.Time
	// NewTimer returns a timer that fires once d of this clock has passed.
	NewTimer(d time.Duration) Timer
}

// Timer is a Clock's one-shot timer, as time.Timer is the system clock's.
type Timer interface {
	// C delivers the time once the timer fires.
	C() <-chan time.Time
	// Stop prevents the timer from firing; false if it fired or was stopped already.
	Stop() bool
}

// SystemClock is the clock of a Client given none: time.Now and time.NewTimer.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (s systemTimer) C() <-chan time.Time { return s.t.C }

func (s systemTimer) Stop() bool { return s.t.Stop() }

// attemptContext bounds one HTTP attempt: a child of ctx that ends once
// timeout has passed in real time. The network's time, as a socket's timeout
// is, not the Client's Clock's.
func attemptContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, timeout)
}

// withTimeout is context.WithTimeout on clock: a child of ctx that ends once
// d of clock has passed. Its timer is waited on in background work started
// by spawn, which ends with the context.
func withTimeout(ctx context.Context, clock Clock, spawn func(func()), d time.Duration) (context.Context, context.CancelFunc) {
	cctx, cancel := context.WithCancel(ctx)
	timer := clock.NewTimer(d)
	spawn(func() {
		defer timer.Stop()
		select {
		case <-timer.C():
			cancel()
		case <-cctx.Done():
		}
	})
	return cctx, cancel
}
