package holdfast

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/rand"
	"os"
	"sync"
	"time"
)

// jitterSource draws the pauses' jitter. It is seeded once per process from
// crypto/rand: before Go 1.20, math/rand's global source starts from the same
// seed in every process, so a fleet of clients that lost their leader at the
// same moment would back off in step, every one of them asking again at the
// same instants, which the jitter is there to prevent.
var jitterSource = newJitterSource()

type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newJitterSource() *lockedRand {
	return &lockedRand{r: rand.New(rand.NewSource(processSeed()))}
}

// processSeed is a seed from crypto/rand, or the process id if that fails.
func processSeed() int64 {
	var b [8]byte
	if _, err := crand.Read(b[:]); err != nil {
		return int64(os.Getpid())
	}
	return int64(binary.LittleEndian.Uint64(b[:]))
}

// int63n is a number in [0, n).
func (l *lockedRand) int63n(n int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Int63n(n)
}

// jitter picks a duration in [d/2, d].
func jitter(d time.Duration) time.Duration {
	half := int64(d / 2)
	if half <= 0 {
		return d
	}
	return time.Duration(half + jitterSource.int63n(half+1))
}
