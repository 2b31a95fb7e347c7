package holdfast

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The client words a refusal as the Java API does: clients/vectors/messages.json,
// which the Java API's tests (CountersTest, ExpectedVersionsTest) and the
// Python and Node clients' tests read too. This client words exactly the
// messages that name "go"; its test server (fake_test.go, fakekeys_test.go)
// words the others as the server does.

type messageExample struct {
	Key        string `json:"key"`
	Message    string `json:"message"`
	ValueBytes int    `json:"valueBytes"`
	Version    int64  `json:"version"`
	Expected   int64  `json:"expected"`
}

func sharedMessages(t *testing.T) map[string][]messageExample {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "vectors", "messages.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Messages []struct {
			Name     string           `json:"name"`
			Clients  []string         `json:"clients"`
			Examples []messageExample `json:"examples"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(raw, &file); err != nil || len(file.Messages) == 0 {
		t.Fatalf("the messages: %v", err)
	}
	out := map[string][]messageExample{}
	var ours []string
	for _, m := range file.Messages {
		out[m.Name] = m.Examples
		for _, c := range m.Clients {
			if c == "go" {
				ours = append(ours, m.Name)
			}
		}
	}
	if want := []string{"notACounter"}; !reflect.DeepEqual(ours, want) {
		t.Fatalf("the messages that name go are %v; this client words %v", ours, want)
	}
	return out
}

// refusalWords is err's words without the "holdfast: " of Error().
func refusalWords(t *testing.T, err error, code error) string {
	t.Helper()
	var he *Error
	if !errors.Is(err, code) || !errors.As(err, &he) {
		t.Fatalf("%v is not %v", err, code)
	}
	return he.Message
}

func TestACounterOfAnotherLengthIsRefusedInTheSharedWords(t *testing.T) {
	examples := sharedMessages(t)["notACounter"]
	if len(examples) == 0 {
		t.Fatal("no examples")
	}
	for _, e := range examples {
		_, err := KeyEntry{Key: e.Key, Version: 1, Value: make([]byte, e.ValueBytes)}.Counter()
		if got := refusalWords(t, err, ErrInvalidArgument); got != e.Message {
			t.Errorf("%q, not %q", got, e.Message)
		}
	}
}

func TestTheFakeWordsAConflictAndAnAddToNoCounterAsTheServerDoes(t *testing.T) {
	shared := sharedMessages(t)
	_, c := openFake(t, 1, 0, Config{})
	ctx := context.Background()
	k := c.Keys()
	for _, e := range shared["versionConflict"] {
		for n := int64(0); n < e.Version; n++ {
			if _, err := k.Put(ctx, e.Key, []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		_, err := k.Put(ctx, e.Key, []byte("y"), IfVersion(e.Expected))
		if got := refusalWords(t, err, ErrConflict); got != e.Message {
			t.Errorf("a key's conflict: %q, not %q", got, e.Message)
		}
		r := c.Register("r/" + e.Key)
		for n := int64(0); n < e.Version; n++ {
			if _, err := r.CompareAndSet(ctx, n, []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		_, err = r.CompareAndSet(ctx, e.Expected, []byte("y"))
		if got := refusalWords(t, err, ErrConflict); got != "r/"+e.Message {
			t.Errorf("a register's conflict: %q, not %q", got, "r/"+e.Message)
		}
	}
	for _, e := range shared["notACounter"] {
		if _, err := k.Put(ctx, e.Key, make([]byte, e.ValueBytes)); err != nil {
			t.Fatal(err)
		}
		_, err := k.Add(ctx, e.Key, 1)
		if got := refusalWords(t, err, ErrInvalidArgument); got != e.Message {
			t.Errorf("an add: %q, not %q", got, e.Message)
		}
	}
}
