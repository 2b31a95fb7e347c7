package holdfast

import "time"

// LockOption adjusts one Lock, Semaphore or LockAll call.
type LockOption func(*lockOptions)

type lockOptions struct {
	wait       time.Duration
	lease      time.Duration
	mode       string
	permits    int64
	maxPermits int64
	owner      int64
	onLost     func(*Lease, LossReason)
}

// Wait lets the acquire queue (fair, FIFO) for up to d; 0 (the default)
// tries once. Cancelling the call's context withdraws the wait.
func Wait(d time.Duration) LockOption { return func(o *lockOptions) { o.wait = d } }

// Shared asks for a shared (read) lock instead of an exclusive one.
func Shared() LockOption { return func(o *lockOptions) { o.mode = "shared" } }

// Exclusive asks for an exclusive lock (the default).
func Exclusive() LockOption { return func(o *lockOptions) { o.mode = "exclusive" } }

// Semaphore asks for permits permits of a semaphore of maxPermits.
func Semaphore(permits, maxPermits int) LockOption {
	return func(o *lockOptions) {
		o.mode = "permits"
		o.permits = int64(permits)
		o.maxPermits = int64(maxPermits)
	}
}

// LeaseTimeout gives the grant a lease timeout: the cluster takes it back if
// it is not renewed within d. The library renews it every d/3 while the
// lease is held; 0 (the default) means none.
func LeaseTimeout(d time.Duration) LockOption { return func(o *lockOptions) { o.lease = d } }

// Owner names who inside the session asks (a non-negative integer, default
// 0). Deadlock detection follows owners, and an owner has one hold per lock:
// give concurrent tasks of one client that may take the same lock different
// owners.
func Owner(n int64) LockOption { return func(o *lockOptions) { o.owner = n } }

// OnLost sets a callback called once, in its own goroutine, when the lease
// (each lease, for LockAll) is lost. It is not called on release or Close.
func OnLost(fn func(l *Lease, reason LossReason)) LockOption {
	return func(o *lockOptions) { o.onLost = fn }
}

func buildOptions(opts []LockOption) *lockOptions {
	o := &lockOptions{mode: "exclusive", permits: 1, maxPermits: 1}
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	return o
}

// validate refuses what is wrong whatever the server's rules: an empty name,
// a negative wait or lease, fewer than one permit. Name syntax is left to
// the server, which answers 400 with a clear message.
func (o *lockOptions) validate(names ...string) error {
	for _, n := range names {
		if n == "" {
			return invalidArgument("the lock name is empty")
		}
	}
	if o.wait < 0 {
		return invalidArgument("the wait is negative (%v)", o.wait)
	}
	if o.lease < 0 {
		return invalidArgument("the lease timeout is negative (%v)", o.lease)
	}
	if o.owner < 0 {
		return invalidArgument("the owner is negative (%d)", o.owner)
	}
	switch o.mode {
	case "exclusive", "shared":
	case "permits":
		if o.permits < 1 {
			return invalidArgument("a semaphore acquire needs at least 1 permit, not %d", o.permits)
		}
		if o.maxPermits < o.permits {
			return invalidArgument("%d permits of a semaphore of %d: maxPermits must be at least permits", o.permits, o.maxPermits)
		}
	default:
		return invalidArgument("mode is exclusive, shared or permits, not %q", o.mode)
	}
	return nil
}

// validateNames checks a LockAll list: not empty, no empty name, no repeats.
func validateNames(names []string) error {
	if len(names) == 0 {
		return invalidArgument("acquire-all needs at least one name")
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n == "" {
			return invalidArgument("the lock name is empty")
		}
		if seen[n] {
			return invalidArgument("%q is named twice", n)
		}
		seen[n] = true
	}
	return nil
}

// millis rounds d up to whole milliseconds.
func millis(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}
