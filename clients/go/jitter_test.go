package holdfast

import (
	"math/rand"
	"testing"
	"time"
)

func TestJitterStaysBetweenHalfAndWhole(t *testing.T) {
	for i := 0; i < 1000; i++ {
		d := jitter(time.Second)
		if d < 500*time.Millisecond || d > time.Second {
			t.Fatalf("jitter(1s) = %v, outside [500ms, 1s]", d)
		}
	}
	if d := jitter(time.Nanosecond); d != time.Nanosecond {
		t.Fatalf("jitter(1ns) = %v, want 1ns", d)
	}
}

// Two processes must not draw the same pauses: a fresh source (as each
// process makes) differs from another, and from math/rand's default-seeded
// global source, which Go 1.19 starts at the same seed in every process.
func TestEachProcessDrawsItsOwnJitter(t *testing.T) {
	sequence := func(next func(int64) int64) []int64 {
		out := make([]int64, 8)
		for i := range out {
			out[i] = next(1 << 40)
		}
		return out
	}
	same := func(a, b []int64) bool {
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	one := sequence(newJitterSource().int63n)
	two := sequence(newJitterSource().int63n)
	if same(one, two) {
		t.Fatalf("two sources drew the same sequence %v", one)
	}
	global := sequence(rand.New(rand.NewSource(1)).Int63n)
	if same(one, global) {
		t.Fatalf("the source drew math/rand's default sequence %v", one)
	}
}
