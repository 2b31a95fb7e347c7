package holdfast

import "testing"

func TestLedgerNumbersFromOne(t *testing.T) {
	l := newLedger()
	if got := l.ackedBelow(); got != 1 {
		t.Fatalf("empty ledger: ackedBelow = %d, want 1", got)
	}
	for want := int64(1); want <= 3; want++ {
		if got := l.begin(); got != want {
			t.Fatalf("begin = %d, want %d", got, want)
		}
	}
}

func TestLedgerAckedBelowIsLowestOutstanding(t *testing.T) {
	l := newLedger()
	a, b, c := l.begin(), l.begin(), l.begin() // 1, 2, 3
	if got := l.ackedBelow(); got != a {
		t.Fatalf("ackedBelow = %d, want %d (all outstanding)", got, a)
	}
	l.end(b) // answered out of order: 1 still outstanding
	if got := l.ackedBelow(); got != a {
		t.Fatalf("after ending 2: ackedBelow = %d, want 1", got)
	}
	l.end(a)
	if got := l.ackedBelow(); got != c {
		t.Fatalf("after ending 1 and 2: ackedBelow = %d, want 3", got)
	}
	l.end(c)
	if got := l.ackedBelow(); got != 4 {
		t.Fatalf("nothing outstanding: ackedBelow = %d, want 4 (the next number)", got)
	}
	d := l.begin()
	if d != 4 || l.ackedBelow() != 4 {
		t.Fatalf("next request: number %d ackedBelow %d, want 4 and 4", d, l.ackedBelow())
	}
}

func TestLedgerIncludesTheRequestItself(t *testing.T) {
	l := newLedger()
	n := l.begin()
	if got := l.ackedBelow(); got > n {
		t.Fatalf("ackedBelow %d above the outstanding request %d", got, n)
	}
}

func TestLedgerEndIsIdempotent(t *testing.T) {
	l := newLedger()
	a := l.begin()
	b := l.begin()
	l.end(a)
	l.end(a)
	l.end(99)
	if !l.isOutstanding(b) || l.isOutstanding(a) {
		t.Fatalf("outstanding: a=%v b=%v, want false true", l.isOutstanding(a), l.isOutstanding(b))
	}
	if got := l.ackedBelow(); got != b {
		t.Fatalf("ackedBelow = %d, want %d", got, b)
	}
}

func TestLedgerUnknownAnswerPinsAckedBelow(t *testing.T) {
	l := newLedger()
	lost := l.begin() // its answer never came
	for i := 0; i < 10; i++ {
		l.end(l.begin())
	}
	if got := l.ackedBelow(); got != lost {
		t.Fatalf("ackedBelow = %d, want %d: a request without a known answer stays outstanding", got, lost)
	}
}
