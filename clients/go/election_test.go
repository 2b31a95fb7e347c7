package holdfast

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestProclaimedReadsTheSharedVectors reads clients/vectors/records.json,
// which every client's parser passes (docs/protocol.md).
func TestProclaimedReadsTheSharedVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "vectors", "records.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vectors struct {
		Election []struct {
			Record  *string `json:"record"`
			Epoch   string  `json:"epoch"`
			Value   string  `json:"value"`
			Invalid string  `json:"invalid"`
		} `json:"election"`
	}
	if err := json.Unmarshal(raw, &vectors); err != nil || len(vectors.Election) == 0 {
		t.Fatalf("the vectors: %v", err)
	}
	for _, v := range vectors.Election {
		var record []byte
		if v.Record != nil {
			record = []byte(*v.Record)
		}
		want := "invalid"
		if v.Invalid == "" {
			want = v.Epoch + " " + v.Value
		}
		got := "invalid"
		if epoch, value, ok := proclaimed(record); ok {
			got = strconv.FormatInt(epoch, 10) + " " + value
		}
		if got != want {
			t.Errorf("%+v read as %q, not %q", v, got, want)
		}
	}
}

// firstToLead checks that nobody leads election name yet, campaigns there for
// a with value, checks that b sees a lead with that value and returns a's
// leadership.
func firstToLead(t *testing.T, ctx context.Context, a, b *Client, name, value string) *Leadership {
	t.Helper()
	if l, err := b.Election(name).Leader(ctx); err != nil || l != nil {
		t.Fatalf("nobody leads yet: %+v %v", l, err)
	}
	first, err := a.Election(name).Campaign(ctx, value)
	if err != nil {
		t.Fatal(err)
	}
	if l, err := b.Election(name).Leader(ctx); err != nil || *l != (Leader{name, first.Epoch(), value, true}) {
		t.Fatalf("leader %+v %v", l, err)
	}
	return first
}

func TestElectionOneLeadsThenTheNextWithAHigherEpoch(t *testing.T) {
	f, a, b := watchClients(t, 1)
	ctx := context.Background()
	first := firstToLead(t, ctx, a, b, "svc/indexer", "a:8080")
	writes := f.seen("/api/v1/registers/set")
	w := writes[len(writes)-1].body
	raw, _ := base64.StdEncoding.DecodeString(str(w, "value"))
	if str(w, "fenceName") != "svc/indexer" || num(w, "fenceToken") != first.Epoch() || string(raw) != strconv.FormatInt(first.Epoch(), 10)+":a:8080" {
		t.Fatalf("the proclamation %v (%q)", w, raw)
	}
	if _, err := b.Election("svc/indexer").Campaign(ctx, "b:8080"); !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("a second candidate without a wait: %v", err)
	}
	type result struct {
		l   *Leadership
		err error
	}
	won := make(chan result, 1)
	go func() {
		l, err := b.Election("svc/indexer").Campaign(ctx, "b:8080", Wait(5*time.Second))
		won <- result{l, err}
	}()
	waitFor(t, "the second candidate to queue", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, c := range f.changes {
			if c["type"] == "queued" && c["name"] == "svc/indexer" {
				return true
			}
		}
		return false
	})
	select {
	case r := <-won:
		t.Fatalf("the second candidate won while the first led: %+v", r)
	default:
	}
	if err := first.Resign(); err != nil {
		t.Fatal(err)
	}
	r := <-won
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.l.Epoch() <= first.Epoch() || first.Valid() || !r.l.Valid() {
		t.Fatalf("epochs %d then %d; first valid %v", first.Epoch(), r.l.Epoch(), first.Valid())
	}
	select {
	case <-first.Lost():
		t.Fatal("a resignation was told as a loss")
	default:
	}
	if l, err := a.Election("svc/indexer").Leader(ctx); err != nil || *l != (Leader{"svc/indexer", r.l.Epoch(), "b:8080", true}) {
		t.Fatalf("leader %+v %v", l, err)
	}
	_ = r.l.Resign()
	if l, err := a.Election("svc/indexer").Leader(ctx); err != nil || l != nil {
		t.Fatalf("after both resigned: %+v %v", l, err)
	}
}

func TestElectionUnproclaimedLostAndFailedProclamation(t *testing.T) {
	f, a, b := watchClients(t, 1)
	ctx := context.Background()
	lease := mustLock(t, ctx, a, "svc/quiet")
	if l, err := b.Election("svc/quiet").Leader(ctx); err != nil || *l != (Leader{"svc/quiet", lease.FencingToken(), "", false}) {
		t.Fatalf("unproclaimed: %+v %v", l, err)
	}
	old := strconv.FormatInt(lease.FencingToken()-1, 10) + ":old"
	if _, err := a.Register("svc/quiet").CompareAndSet(ctx, 0, []byte(old)); err != nil {
		t.Fatal(err)
	}
	if l, _ := b.Election("svc/quiet").Leader(ctx); l == nil || l.Proclaimed {
		t.Fatalf("an older leadership's value was taken for the leader's: %+v", l)
	}

	lost := make(chan LossReason, 1)
	leading, err := a.Election("svc/lost").Campaign(ctx, "a", OnLost(func(_ *Lease, r LossReason) { lost <- r }))
	if err != nil {
		t.Fatal(err)
	}
	f.revoke("svc/lost", true)
	select {
	case r := <-lost:
		if r != LossRevoked || leading.Valid() {
			t.Fatalf("reason %s, valid %v", r, leading.Valid())
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the loss was not told")
	}

	f.mu.Lock()
	f.refuseKeys["svc/taken"] = true
	f.mu.Unlock()
	if _, err := b.Election("svc/taken").Campaign(ctx, "b"); !errors.Is(err, ErrConflict) {
		t.Fatalf("a refused proclamation: %v", err)
	}
	if f.held("svc/taken") {
		t.Fatal("the candidacy was not ended")
	}
	sent := len(f.seen("/api/v1/acquire"))
	if _, err := b.Election("svc/x").Campaign(ctx, strings.Repeat("x", MaxLeaderValueBytes+1)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a value too long: %v", err)
	}
	if _, err := b.Election("").Leader(ctx); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("no name: %v", err)
	}
	if len(f.seen("/api/v1/acquire")) != sent {
		t.Fatal("bad input was sent")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// observeUntil reads o's leaders until want is told, failing after 5 s; it
// returns what was told, in order.
func observeUntil(t *testing.T, o *Observation, want *Leader) []*Leader {
	t.Helper()
	var told []*Leader
	timeout := time.After(5 * time.Second)
	for {
		select {
		case l, ok := <-o.Leaders():
			if !ok {
				t.Fatalf("the observation ended (%v) after %v", o.Err(), told)
			}
			told = append(told, l)
			if sameLeader(l, want) {
				return told
			}
		case <-timeout:
			t.Fatalf("%+v was not told; told %v", want, told)
		}
	}
}

// observed starts b's observation of name, with a as another client.
func observed(t *testing.T, name string) (a, b *Client, o *Observation) {
	t.Helper()
	_, a, b = watchClients(t, 1)
	o, err := b.Election(name).Observe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Close)
	return a, b, o
}

func TestObserveTellsEachLeaderInEpochOrder(t *testing.T) {
	a, b, o := observed(t, "svc/observed")
	ctx := context.Background()
	if told := observeUntil(t, o, nil); len(told) != 1 {
		t.Fatalf("nobody leads at first: %v", told)
	}
	first, err := a.Election("svc/observed").Campaign(ctx, "a:8080")
	if err != nil {
		t.Fatal(err)
	}
	observeUntil(t, o, &Leader{"svc/observed", first.Epoch(), "a:8080", true})
	if err := first.Resign(); err != nil {
		t.Fatal(err)
	}
	observeUntil(t, o, nil)
	second, err := b.Election("svc/observed").Campaign(ctx, "b:8080")
	if err != nil {
		t.Fatal(err)
	}
	told := observeUntil(t, o, &Leader{"svc/observed", second.Epoch(), "b:8080", true})
	for _, l := range told {
		if l == nil || l.Epoch != second.Epoch() {
			t.Fatalf("only the second leadership, with and then without its value: %v", told)
		}
	}
	o.Close()
	for range o.Leaders() {
	}
	if o.Err() != nil {
		t.Fatalf("closed: %v", o.Err())
	}
}

func TestObserveTellsALeaderBeforeItsValue(t *testing.T) {
	a, _, o := observed(t, "svc/quiet")
	ctx := context.Background()
	lease, err := a.Lock(ctx, "svc/quiet") // elected, not proclaimed
	if err != nil {
		t.Fatal(err)
	}
	observeUntil(t, o, &Leader{"svc/quiet", lease.FencingToken(), "", false})
	value := strconv.FormatInt(lease.FencingToken(), 10) + ":late"
	if _, err := a.Register("svc/quiet").CompareAndSet(ctx, 0, []byte(value), FencedBy(lease)); err != nil {
		t.Fatal(err)
	}
	observeUntil(t, o, &Leader{"svc/quiet", lease.FencingToken(), "late", true})
}
