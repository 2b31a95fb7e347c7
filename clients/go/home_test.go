package holdfast

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// The client's home member (docs/protocol.md, "Members and the leader"):
// picked at random among the members given (Calls "first": the first one
// listed), kept while it serves, even a follower, and left only when it
// fails the client.

// picks is a Config.Rand that picks index, noting each n asked.
func picks(index int, asked *[]int) func(int) int {
	return func(n int) int {
		*asked = append(*asked, n)
		return index
	}
}

// script is a Config.Rand that gives each of given in turn, noting each n asked.
func script(t *testing.T, asked *[]int, given ...int) func(int) int {
	return func(n int) int {
		*asked = append(*asked, n)
		if len(given) == 0 {
			t.Errorf("no more picks scripted (asked among %d)", n)
			return 0
		}
		k := given[0]
		given = given[1:]
		return k
	}
}

// serving is a fake cluster of three members led by the first, where every
// member serves sessions (a follower forwards to the leader).
func serving(t *testing.T) *fakeCluster {
	f := newFakeCluster(t, 3, 0)
	f.followersServe = true
	noLeaks(t)
	return f
}

// only fails the test unless every node in nodes is want.
func only(t *testing.T, nodes []int, want int) {
	t.Helper()
	if len(nodes) == 0 {
		t.Fatal("no request")
	}
	for _, n := range nodes {
		if n != want {
			t.Fatalf("requests at nodes %v, want all at %d", nodes, want)
		}
	}
}

func TestTheHomeIsPickedAtRandom(t *testing.T) {
	f := serving(t)
	var asked []int
	c := open(t, f, Config{Rand: picks(2, &asked)})
	defer c.Close()
	if !reflect.DeepEqual(asked, []int{3}) {
		t.Fatalf("asked %v, want one pick among 3", asked)
	}
	if n := f.nodesHit(); len(n) == 0 || n[0] != 2 {
		t.Fatalf("requests at nodes %v, want the first at 2", n)
	}
	if c.tr.homeIndex() != 2 {
		t.Fatalf("home %d", c.tr.homeIndex())
	}
}

func TestCallsFirstSendsToTheFirstMemberListed(t *testing.T) {
	f := serving(t)
	f.leader = 1
	var asked []int
	c := open(t, f, Config{Calls: "first", Rand: picks(2, &asked)})
	l := mustLock(t, context.Background(), c, "home/first")
	_ = l.Release()
	_ = c.Close()
	if len(asked) != 0 {
		t.Fatalf("asked %v, want no pick", asked)
	}
	only(t, f.nodesHit(), 0)
}

func TestABadCallsValueIsRefused(t *testing.T) {
	f := newFakeCluster(t, 3, 0)
	for _, bad := range []string{"leader", "First", " home"} {
		_, err := New(context.Background(), Config{Members: f.urls(), Calls: bad})
		if !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("calls %q: got %v, want INVALID_ARGUMENT", bad, err)
		}
		if msg := err.Error(); !strings.Contains(msg, `"`+bad+`"`) || strings.Contains(msg, "\n") {
			t.Fatalf("calls %q: message %q", bad, msg)
		}
	}
	if n := f.nodesHit(); len(n) != 0 {
		t.Fatalf("requests sent: %v", n)
	}
}

func TestTheHomeStaysAtAFollowerThatServes(t *testing.T) {
	f := serving(t)
	var asked []int
	c := open(t, f, Config{Rand: picks(1, &asked)}) // node 1 follows node 0
	ctx := context.Background()
	l := mustLock(t, ctx, c, "home/follower", Wait(time.Second))
	if ok, err := c.IsCurrent(ctx, "home/follower", l.FencingToken()); err != nil || !ok {
		t.Fatalf("IsCurrent %v %v", ok, err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	only(t, f.nodesHit(), 1)
	if c.tr.homeIndex() != 1 {
		t.Fatalf("home %d", c.tr.homeIndex())
	}
	_ = c.Close()
}

func TestALeaderOnlyCallIsFollowedAndASuccessElsewhereLeavesTheHome(t *testing.T) {
	f := serving(t)
	call := func(tr *transport, path string) answer {
		t.Helper()
		a, err := tr.call(context.Background(), request{method: "GET", path: path,
			attemptTimeout: time.Second, deadline: time.Now().Add(3 * time.Second), member: -1})
		if err != nil || a.status != 200 {
			t.Fatalf("%s: %+v %v", path, a, err)
		}
		return a
	}
	follower := newTransport(f.urls(), 2, pickFirst, "", nil)
	defer follower.close()
	if a := call(follower, "/api/v1/fence?name=x&token=1"); a.member != 2 {
		t.Fatalf("answered at %d, want the home 2", a.member)
	}
	if follower.homeIndex() != 2 {
		t.Fatalf("home %d after a success at the follower", follower.homeIndex())
	}
	// Only the leader serves the members' routes: the home names it, and it
	// moves there (the Java client's home, too, follows a leader a write names).
	if a := call(follower, "/api/v1/members"); a.member != 0 {
		t.Fatalf("answered at %d, want the leader 0", a.member)
	}
	if follower.homeIndex() != 0 {
		t.Fatalf("home %d: the home named the leader, it moves there", follower.homeIndex())
	}
}

func TestTheHomeMovesOnANetworkError(t *testing.T) {
	f := serving(t)
	f.servers[1].Close() // connections refused
	var asked []int
	c := open(t, f, Config{Rand: picks(1, &asked)})
	if c.tr.homeIndex() != 0 {
		t.Fatalf("home %d, want 0, the second of the two others counted on from 2", c.tr.homeIndex())
	}
	if !reflect.DeepEqual(asked, []int{3, 2}) {
		t.Fatalf("asked %v, want the first home among 3, then one of the 2 others", asked)
	}
	l := mustLock(t, context.Background(), c, "home/moved")
	_ = l.Release()
	_ = c.Close()
	only(t, f.nodesHit(), 0)
}

func TestAHomeThatFailsMovesToTheMemberPickedAmongTheOthers(t *testing.T) {
	// the home, node 1, refuses connections; the picker chooses among the
	// two others, counted on from the one after it: nodes 2 and 0
	for _, tc := range []struct{ pick, moved int }{{0, 2}, {1, 0}} {
		t.Run(fmt.Sprintf("pick %d", tc.pick), func(t *testing.T) {
			f := serving(t)
			f.servers[1].Close()
			var asked []int
			c := open(t, f, Config{Rand: script(t, &asked, 1, tc.pick)})
			defer c.Close()
			if n := f.nodesHit(); len(n) == 0 || n[0] != tc.moved {
				t.Fatalf("requests at nodes %v, want the first at %d", n, tc.moved)
			}
			if c.tr.homeIndex() != tc.moved {
				t.Fatalf("home %d, want %d", c.tr.homeIndex(), tc.moved)
			}
			if !reflect.DeepEqual(asked, []int{3, 2}) {
				t.Fatalf("asked %v, want the first home among 3, then one of the 2 others", asked)
			}
		})
	}
}

func TestAHomeThatFailsNeverStaysAndItsClientsSpreadOverTheOthers(t *testing.T) {
	tr := newTransport([]string{"http://a", "http://b", "http://c"}, 0, rand.New(rand.NewSource(11)).Intn, "", nil)
	moves := map[[2]int]bool{}
	for i := 0; i < 200; i++ {
		before := tr.homeIndex()
		tr.rotate(before)
		after := tr.homeIndex()
		if after == before {
			t.Fatalf("the home %d failed and stayed", before)
		}
		moves[[2]int{before, after}] = true
	}
	// from each member, to each of the two others
	if len(moves) != 6 {
		t.Fatalf("moves %v, want each member to each of the two others", moves)
	}
	home := tr.homeIndex()
	tr.rotate((home + 1) % 3)
	if tr.homeIndex() != home {
		t.Fatalf("a member that is not the home failed: home %d, want %d", tr.homeIndex(), home)
	}
}

func TestCallsFirstMovesAHomeThatFailsToTheNextMemberListed(t *testing.T) {
	f := serving(t)
	f.servers[0].Close() // connections refused
	var asked []int
	c := open(t, f, Config{Calls: "first", Rand: picks(2, &asked)})
	defer c.Close()
	if c.tr.homeIndex() != 1 {
		t.Fatalf("home 0 failed: home %d, want 1", c.tr.homeIndex())
	}
	if n := f.nodesHit(); len(n) == 0 || n[0] != 1 {
		t.Fatalf("requests at nodes %v, want the first at 1", n)
	}
	// the home 1 fails: the next member listed; then the home 2, the last,
	// fails: the first one
	c.tr.rotate(1)
	if c.tr.homeIndex() != 2 {
		t.Fatalf("home 1 failed: home %d, want 2", c.tr.homeIndex())
	}
	c.tr.rotate(2)
	if c.tr.homeIndex() != 0 {
		t.Fatalf("home 2 failed: home %d, want 0", c.tr.homeIndex())
	}
	if len(asked) != 0 {
		t.Fatalf("asked %v, want no pick", asked)
	}
}

func TestCallsFirstWalksTheListWhenMembersFailInTurn(t *testing.T) {
	// four members; member 0 fails, then member 1: the home goes on to
	// member 2, not back to 0
	pick, err := homePicker("first", nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := newTransport([]string{"http://a", "http://b", "http://c", "http://d"}, pickIn(pick, 4), pick, "", nil)
	if tr.homeIndex() != 0 {
		t.Fatalf("home %d, want 0", tr.homeIndex())
	}
	for _, tc := range []struct{ fails, want int }{{0, 1}, {1, 2}, {2, 3}, {3, 0}} {
		tr.rotate(tc.fails)
		if tr.homeIndex() != tc.want {
			t.Fatalf("home %d failed: home %d, want %d, the next one listed", tc.fails, tr.homeIndex(), tc.want)
		}
	}
}

func TestACallStillTriesEveryMemberOnceARoundWhereverTheHomeMoves(t *testing.T) {
	for name, pick := range map[string]func(int) int{
		"first":  pickFirst,
		"last":   func(n int) int { return n - 1 },
		"random": rand.New(rand.NewSource(5)).Intn,
	} {
		// members of its own for each pick: a try the last pick's call
		// had in flight when its deadline cut it must not count here
		m := newRecordingMembers(3, func(w http.ResponseWriter, i int) {
			writeJSON(w, 503, errBody("UNAVAILABLE", "no majority answers"))
		})
		tr := newTransport(m.urls, pickIn(pick, 3), pick, "", nil)
		_, err := tr.call(context.Background(), request{method: "POST", path: "/api/v1/x",
			body: func() any { return map[string]any{} }, attemptTimeout: time.Second,
			deadline: time.Now().Add(500 * time.Millisecond), member: -1})
		tr.close()
		m.close()
		tries := m.tries()
		if !isCode(err, CodeUnavailable) {
			t.Fatalf("%s: err %v", name, err)
		}
		var rounds [][]int
		for i := 0; i+3 <= len(tries); i += 3 {
			round := append([]int(nil), tries[i:i+3]...)
			rounds = append(rounds, round)
			sorted := append([]int(nil), round...)
			sort.Ints(sorted)
			if !reflect.DeepEqual(sorted, []int{0, 1, 2}) {
				t.Fatalf("%s: a round %v of %v, want every member once", name, round, tries)
			}
		}
		if len(rounds) < 2 {
			t.Fatalf("%s: tries %v, want two rounds at least", name, tries)
		}
	}
}

func TestAFleetSpreadsOverTheMembers(t *testing.T) {
	homes := map[int]bool{}
	for i := 0; i < 40; i++ {
		h, err := pickHome("", nil, 3)
		if err != nil {
			t.Fatal(err)
		}
		homes[h] = true
	}
	// all 40 on two members or fewer: 3 × (2/3)^40, under 1e-6
	if len(homes) != 3 {
		t.Fatalf("homes %v, want every one of 3 members", homes)
	}
}
