package holdfast

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseAKeysWatch(t *testing.T) {
	evs, next, err := parseWatchPage([]byte(`{"watch":"keys","name":"services/","gap":true,"next":"9.0","events":[],
		"keys":[{"key":"services/a","version":2,"value":"eA==","owner":"S"}]}`))
	if err != nil || next != "9.0" || len(evs) != 1 {
		t.Fatalf("%+v %q %v", evs, next, err)
	}
	if want := []KeyEntry{{"services/a", 2, []byte("x"), "S"}}; !reflect.DeepEqual(evs[0].Keys, want) || evs[0].Locks != nil {
		t.Fatalf("state %+v", evs[0])
	}
	evs, _, err = parseWatchPage([]byte(`{"name":"services/","gap":false,"next":"10.0","events":[
		{"type":"registerDeleted","name":"services/a","sessionId":"S","version":2,"cause":"sessionExpired","position":"10.0"}]}`))
	if err != nil || len(evs) != 1 {
		t.Fatal(evs, err)
	}
	if e := evs[0]; e.Type != WatchRegisterDeleted || e.Version != 2 || e.Cause != "sessionExpired" || e.Value != nil {
		t.Fatalf("deleted %+v", e)
	}
}

func TestKeysPutOnALeaseSendsItWithAttachAndBadOnesAreRefusedBeforeSending(t *testing.T) {
	f, c := openFake(t, 3, 1, Config{})
	ctx := context.Background()
	k := c.Keys()
	if _, err := k.Put(ctx, "svc/a", []byte("x"), OnLease("LeaseSession0000000001")); err != nil {
		t.Fatal(err)
	}
	put := f.seen("/api/v1/keys/put")[0]
	if str(put.body, "lease") != "LeaseSession0000000001" || put.body["attach"] != true {
		t.Fatalf("a put on a lease sends it, with attach: %+v", put.body)
	}
	for _, bad := range [][]PutOption{
		{OnLease("")},
		{OnLease("LeaseSession0000000001"), Detached()},
		{OnLease("LeaseSession0000000001"), WithTTL(5 * time.Second)},
	} {
		if _, err := k.Put(ctx, "svc/b", []byte("x"), bad...); !errors.Is(err, ErrInvalidArgument) {
			t.Fatal(err)
		}
	}
	if n := len(f.seen("/api/v1/keys/put")); n != 1 {
		t.Fatalf("%d puts sent; a refused one is not sent", n)
	}
}

func TestKeysPutGetDeleteWithRequestIDs(t *testing.T) {
	f, c := openFake(t, 3, 1, Config{})
	ctx := context.Background()
	k := c.Keys()
	if v, err := k.Put(ctx, "config/x", []byte("on"), Attached(), WithTTL(5*time.Second)); err != nil || v != 1 {
		t.Fatal(v, err)
	}
	put := f.seen("/api/v1/keys/put")[0]
	if put.requestID != 1 || put.ackedBelow != 1 || str(put.body, "session") != c.SessionID() ||
		str(put.body, "value") != "b24=" || put.body["attach"] != true || num(put.body, "ttlMillis") != 5000 ||
		num(put.body, "expectedVersion") != -1 {
		t.Fatalf("put %+v", put)
	}
	e, err := k.Get(ctx, "config/x")
	if err != nil || e == nil || e.Version != 1 || string(e.Value) != "on" || e.Owner != c.SessionID() {
		t.Fatalf("get %+v %v", e, err)
	}
	if v, err := k.Put(ctx, "config/x", []byte("off"), IfVersion(1)); err != nil || v != 2 {
		t.Fatal(v, err)
	}
	if _, ok := f.seen("/api/v1/keys/put")[1].body["attach"]; ok {
		t.Fatal("a put without Attached sent attach")
	}
	if e, err := k.Get(ctx, "config/x"); err != nil || e.Owner != c.SessionID() {
		t.Fatalf("a put without a lifetime keeps the key's: %+v %v", e, err)
	}
	if v, err := k.Put(ctx, "config/x", []byte("off"), Detached()); err != nil || v != 3 {
		t.Fatal(v, err)
	}
	if f.seen("/api/v1/keys/put")[2].body["detach"] != true {
		t.Fatal("Detached did not send detach")
	}
	if e, err := k.Get(ctx, "config/x"); err != nil || e.Owner != "" {
		t.Fatalf("detached: %+v %v", e, err)
	}
	if _, err := k.Put(ctx, "config/x", []byte("x"), Attached(), Detached()); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if v, err := k.Delete(ctx, "config/x", 3); err != nil || v != 3 {
		t.Fatal(v, err)
	}
	if e, err := k.Get(ctx, "config/x"); e != nil || err != nil {
		t.Fatalf("after delete %+v %v", e, err)
	}
	if v, err := k.Delete(ctx, "config/x", AnyVersion); err != nil || v != 0 {
		t.Fatal(v, err)
	}
}

func TestKeysErrors(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{})
	ctx := context.Background()
	k := c.Keys()
	if _, err := k.Put(ctx, "k", []byte("1")); err != nil {
		t.Fatal(err)
	}
	_, err := k.Put(ctx, "k", []byte("2"), IfAbsent())
	var he *Error
	if !errors.Is(err, ErrConflict) || !errors.As(err, &he) || he.CurrentVersion != 1 {
		t.Fatalf("conflict: %v", err)
	}
	if _, err := k.Add(ctx, "k", 1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("add to a non-counter: %v", err)
	}
	for _, bad := range []error{
		func() error { _, e := k.Put(ctx, "", nil); return e }(),
		func() error { _, e := k.Put(ctx, "x", nil, WithTTL(time.Millisecond)); return e }(),
		func() error { _, e := k.Delete(ctx, "x", -2); return e }(),
		func() error { _, e := k.List(ctx, "", "", 0); return e }(),
	} {
		if !errors.Is(bad, ErrInvalidArgument) {
			t.Fatalf("refused before sending: %v", bad)
		}
	}
	f.mu.Lock()
	f.keyQuota = 0
	f.mu.Unlock()
	if _, err := k.Put(ctx, "q", nil, Attached()); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("quota: %v", err)
	}
}

func TestKeysAddListAndScan(t *testing.T) {
	_, c := openFake(t, 1, 0, Config{})
	ctx := context.Background()
	k := c.Keys()
	if n, err := k.Add(ctx, "stats/runs", 5); err != nil || n != 5 {
		t.Fatal(n, err)
	}
	if n, err := k.Add(ctx, "stats/runs", -2); err != nil || n != 3 {
		t.Fatal(n, err)
	}
	if e, _ := k.Get(ctx, "stats/runs"); e == nil {
		t.Fatal("no counter")
	} else if n, err := e.Counter(); err != nil || n != 3 {
		t.Fatal(n, err)
	}
	for _, n := range []string{"svc/0", "svc/1", "svc/2", "other"} {
		if _, err := k.Put(ctx, n, []byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	page, err := k.List(ctx, "svc/", "", 2)
	if err != nil || len(page.Entries) != 2 || !page.More || page.Next() != "svc/1" || page.Position == "" {
		t.Fatalf("%+v %v", page, err)
	}
	var all []string
	if err := k.Scan(ctx, "svc/", func(e KeyEntry) bool { all = append(all, e.Key); return true }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"svc/0", "svc/1", "svc/2"}; !reflect.DeepEqual(all, want) {
		t.Fatalf("scan %q", all)
	}
}

func TestKeysDeletePrefixPagesAndKeysOnlyListing(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{})
	ctx := context.Background()
	k := c.Keys()
	for i := 0; i < MaxPage+3; i++ {
		if _, err := k.Put(ctx, fmt.Sprintf("bulk/%04d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := k.Put(ctx, "bulkhead", []byte("stays")); err != nil {
		t.Fatal(err)
	}
	only, err := k.ListKeysOnly(ctx, "bulk/", "", 2)
	if err != nil || len(only.Entries) != 2 || only.Entries[0].Key != "bulk/0000" || len(only.Entries[0].Value) != 0 ||
		only.Entries[0].Version != 1 || !only.More {
		t.Fatalf("keys only: %+v %v", only, err)
	}
	if full, _ := k.List(ctx, "bulk/", "", 1); string(full.Entries[0].Value) != "v" {
		t.Fatalf("a listing with values: %+v", full)
	}
	if n, err := k.DeletePrefix(ctx, "bulk/"); err != nil || n != MaxPage+3 {
		t.Fatalf("deleted %d: %v", n, err)
	}
	f.mu.Lock()
	pages := 0
	for _, r := range f.requests {
		if r.path == "/api/v1/keys/delete-prefix" {
			pages++
		}
	}
	f.mu.Unlock()
	if pages != 2 {
		t.Fatalf("%d pages, want 2", pages)
	}
	if left, _ := k.List(ctx, "bulk", "", 10); len(left.Entries) != 1 || left.Entries[0].Key != "bulkhead" {
		t.Fatalf("left %+v", left)
	}
	if _, err := k.DeletePrefix(ctx, ""); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), EmptyPrefixDelete) {
		t.Fatalf("empty prefix: %v", err)
	}
}

func TestTxnRunsOneBranchAndAnswersEachOp(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{})
	ctx := context.Background()
	k := c.Keys()
	if _, err := k.Put(ctx, "acct/a", []byte("10")); err != nil {
		t.Fatal(err)
	}
	txn := func() (TxnResult, error) {
		return k.Txn(ctx).
			If(CompareVersion("acct/a", Equal, 1), CompareAbsent("acct/b")).
			Then(OpPut("acct/a", []byte("4")), OpPut("acct/b", []byte("6"), Attached()), OpAdd("acct/moves", 1), OpGet("acct/a")).
			Else(OpGet("acct/a")).
			Commit()
	}
	r, err := txn()
	if err != nil || !r.Succeeded || len(r.Results) != 4 {
		t.Fatalf("%+v %v", r, err)
	}
	if r.Results[0].Version != 2 || r.Results[2].Counter != 1 || string(r.Results[3].Value) != "4" {
		t.Fatalf("results %+v", r.Results)
	}
	sent := f.seen("/api/v1/txn")[0].body
	if c0 := sent["compares"].([]any)[0].(map[string]any); c0["order"] != "equal" || num(c0, "version") != 1 {
		t.Fatalf("compare %+v", c0)
	}
	if r, err = txn(); err != nil || r.Succeeded || string(r.Results[0].Value) != "4" {
		t.Fatalf("second %+v %v", r, err)
	}
	_, err = k.Txn(ctx).Then(OpPut("n", []byte("x")), OpDelete("n2", 3)).Commit()
	if !errors.Is(err, ErrConflict) || !strings.HasPrefix(err.(*Error).Message, "then op 2:") {
		t.Fatalf("refused op: %v", err)
	}
	if e, _ := k.Get(ctx, "n"); e != nil {
		t.Fatal("a refused transaction changed a key")
	}
	if _, err := k.Txn(ctx).Then(OpPut("", nil)).Commit(); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty key: %v", err)
	}
}

func TestTxnRetriedAfterALostAnswerAppliesOnce(t *testing.T) {
	f, c := openFake(t, 1, 0, Config{})
	f.mu.Lock()
	f.drop["/api/v1/txn"] = 1
	f.mu.Unlock()
	r, err := c.Keys().Txn(context.Background()).If(CompareAbsent("once")).Then(OpAdd("once", 1)).Commit()
	if err != nil || !r.Succeeded || r.Results[0].Counter != 1 {
		t.Fatalf("%+v %v: want the first answer, not a second run's", r, err)
	}
	seen := f.seen("/api/v1/txn")
	if len(seen) != 2 || seen[0].requestID != seen[1].requestID {
		t.Fatalf("transactions %+v: want the same request twice", seen)
	}
}

func TestAKeysStateTheServerCutIsCompletedByListingBeforeTheChanges(t *testing.T) {
	f, c, _ := watchClients(t, 1)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := c.Keys().Put(ctx, fmt.Sprintf("big/%d", i), []byte(fmt.Sprintf("v%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	f.mu.Lock()
	f.stateLimit = 2 // the server cut the state to fit a frame: "more"
	f.mu.Unlock()
	w, err := c.Keys().Watch(ctx, "big/")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	st := nextEvent(t, w)
	var got []string
	for _, k := range st.Keys {
		got = append(got, k.Key+"="+string(k.Value))
	}
	if st.Type != WatchState || strings.Join(got, " ") != "big/0=v0 big/1=v1 big/2=v2 big/3=v3 big/4=v4" {
		t.Fatalf("state %s %q", st.Type, got)
	}
	if _, err := c.Keys().Put(ctx, "big/5", []byte("v5")); err != nil {
		t.Fatal(err)
	}
	if e := nextEvent(t, w); e.Type != WatchRegisterSet || e.Name != "big/5" {
		t.Fatalf("after the state %+v", e)
	}
}

func TestKeysWatchAndGroup(t *testing.T) {
	f, c, other := watchClients(t, 1)
	ctx := context.Background()
	group := c.Keys().Group("services/web")
	if _, err := other.Keys().Group("services/web").Join(ctx, "i-1", []byte("10.0.0.1:80")); err != nil {
		t.Fatal(err)
	}
	w, err := group.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	st := nextEvent(t, w)
	if st.Type != WatchState || len(st.Keys) != 1 || st.Keys[0].Owner != other.SessionID() || group.Member(st.Keys[0].Key) != "i-1" {
		t.Fatalf("state %+v", st)
	}
	if _, err := c.Keys().Group("services/web").Join(ctx, "i-2", []byte("10.0.0.2:80")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Keys().Put(ctx, "services/db/x", nil); err != nil {
		t.Fatal(err)
	}
	if e := nextEvent(t, w); e.Type != WatchRegisterSet || group.Member(e.Name) != "i-2" || string(e.Value) != "10.0.0.2:80" {
		t.Fatalf("join %+v", e)
	}
	members, err := group.Members(ctx)
	if err != nil || len(members) != 2 || string(members["i-1"]) != "10.0.0.1:80" {
		t.Fatalf("members %q %v", members, err)
	}
	f.expire(other.SessionID())
	if e := nextEvent(t, w); e.Type != WatchRegisterDeleted || group.Member(e.Name) != "i-1" || e.Cause != "sessionExpired" || e.Version != 1 {
		t.Fatalf("leave %+v", e)
	}
	if left, err := group.Leave(ctx, "i-2"); err != nil || !left {
		t.Fatalf("leave: %v %v", left, err)
	}
	if e := nextEvent(t, w); e.Type != WatchRegisterDeleted || e.Cause != "" {
		t.Fatalf("left %+v", e)
	}
	if _, err := group.Join(ctx, "a/b", nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("member with a slash: %v", err)
	}
}

func TestGroupMemberNameBelongsToOneLiveSession(t *testing.T) {
	f, c, other := watchClients(t, 1)
	ctx := context.Background()
	mine, theirs := c.Keys().Group("services/web"), other.Keys().Group("services/web")
	if _, err := theirs.Join(ctx, "i-1", []byte("10.0.0.1:80")); err != nil {
		t.Fatal(err)
	}
	if v, err := theirs.Join(ctx, "i-1", []byte("10.0.0.1:81")); err != nil || v != 2 {
		t.Fatalf("the holder joining again: %d %v, want version 2", v, err)
	}
	_, err := mine.Join(ctx, "i-1", []byte("10.0.0.2:80"))
	var he *Error
	if !errors.As(err, &he) || he.Code != CodeConflict || he.Holder != other.SessionID() || he.CurrentVersion != 2 ||
		!strings.Contains(he.Message, "member i-1 of group services/web is held by session "+other.SessionID()) {
		t.Fatalf("another session's join: %#v, want CONFLICT naming the holder", err)
	}
	if left, err := mine.Leave(ctx, "i-1"); err != nil || left {
		t.Fatalf("another session's leave: %v %v, want false", left, err)
	}
	if e, err := c.Keys().Get(ctx, "services/web/i-1"); err != nil || e == nil || e.Owner != other.SessionID() || string(e.Value) != "10.0.0.1:81" {
		t.Fatalf("the key after a refused join and leave: %+v %v", e, err)
	}
	f.expire(other.SessionID())
	if v, err := mine.Join(ctx, "i-1", []byte("10.0.0.2:80")); err != nil || v != 1 {
		t.Fatalf("a join once the holder's session ended: %d %v", v, err)
	}
	if _, err := c.Keys().Put(ctx, "services/web/plain", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := mine.Join(ctx, "plain", nil); !errors.As(err, &he) || he.Holder != "" || !strings.Contains(he.Message, "held by no session") {
		t.Fatalf("a key of no session: %v", err)
	}
}
