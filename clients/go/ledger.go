package holdfast

import "sync"

// ledger numbers a session's requests 1, 2, 3, … and knows which numbers are
// outstanding: from before a request is first sent until its final answer is
// known. ackedBelow is the lowest outstanding number (or the next number when
// none is outstanding): every request below it has its answer, so the cluster
// may forget those answers.
//
// A number whose answer is never known (every member kept failing until the
// call's deadline) stays outstanding for the session's life: the cluster must
// then remember the answers above it, which is the price of never applying a
// request twice.
type ledger struct {
	mu          sync.Mutex
	next        int64
	outstanding map[int64]struct{}
}

func newLedger() *ledger {
	return &ledger{next: 1, outstanding: make(map[int64]struct{})}
}

// begin takes the next number and marks it outstanding.
func (l *ledger) begin() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.next
	l.next++
	l.outstanding[n] = struct{}{}
	return n
}

// end marks n's final answer as known. Ending a number twice, or one never
// begun, does nothing.
func (l *ledger) end(n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.outstanding, n)
}

// ackedBelow is the lowest outstanding number, or the next number to be
// given when none is outstanding. Computed afresh for every send, so a
// re-sent request carries an ackedBelow that may have grown (never beyond its
// own number, which is outstanding while it is being sent).
func (l *ledger) ackedBelow() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	low := l.next
	for n := range l.outstanding {
		if n < low {
			low = n
		}
	}
	return low
}

// isOutstanding reports whether n is outstanding.
func (l *ledger) isOutstanding(n int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.outstanding[n]
	return ok
}
