package holdfast

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateRefusesBeforeSending(t *testing.T) {
	// No server at this address: a refusal must come before any attempt.
	c, err := newClient(Config{Members: []string{"http://127.0.0.1:1"}, RequestTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.cancel()
	ctx := context.Background()
	cases := []struct {
		what string
		call func() error
	}{
		{"empty name", func() error { _, err := c.Lock(ctx, ""); return err }},
		{"negative wait", func() error { _, err := c.Lock(ctx, "a", Wait(-time.Second)); return err }},
		{"negative lease", func() error { _, err := c.Lock(ctx, "a", LeaseTimeout(-time.Second)); return err }},
		{"zero permits", func() error { _, err := c.Semaphore(ctx, "a", 0, 5); return err }},
		{"permits above max", func() error { _, err := c.Semaphore(ctx, "a", 6, 5); return err }},
		{"negative owner", func() error { _, err := c.Lock(ctx, "a", Owner(-1)); return err }},
		{"no names", func() error { _, err := c.LockAll(ctx, nil); return err }},
		{"repeated name", func() error { _, err := c.LockAll(ctx, []string{"a", "b", "a"}); return err }},
		{"empty name in list", func() error { _, err := c.LockAll(ctx, []string{"a", ""}); return err }},
		{"empty register key", func() error { _, _, err := c.Register("").Get(ctx); return err }},
		{"negative version", func() error { _, err := c.Register("k").CompareAndSet(ctx, -1, nil); return err }},
		{"empty fence name", func() error { _, err := c.IsCurrent(ctx, "", 1); return err }},
	}
	for _, tc := range cases {
		start := time.Now()
		err := tc.call()
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: got %v, want INVALID_ARGUMENT", tc.what, err)
		}
		if time.Since(start) > 40*time.Millisecond {
			t.Errorf("%s: took %v: it was sent", tc.what, time.Since(start))
		}
	}
}

func TestValidConfigs(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Members: []string{" , "}},
		{Members: []string{"ftp://x"}},
		{Members: []string{"http://a:1"}, SessionTTL: 500 * time.Millisecond},
		{Members: []string{"http://a:1"}, RequestTimeout: -1},
	} {
		if _, err := newClient(cfg); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%+v: got %v, want INVALID_ARGUMENT", cfg, err)
		}
	}
	c, err := newClient(Config{Members: []string{"127.0.0.1:4655/, http://10.0.0.2:4655"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.cancel()
	want := []string{"http://127.0.0.1:4655", "http://10.0.0.2:4655"}
	if len(c.tr.members) != 2 || c.tr.members[0] != want[0] || c.tr.members[1] != want[1] {
		t.Fatalf("members %v, want %v", c.tr.members, want)
	}
	if c.ttl != 10*time.Second || c.reqTimeout != 5*time.Second {
		t.Fatalf("defaults: ttl %v timeout %v", c.ttl, c.reqTimeout)
	}
}

func TestOptions(t *testing.T) {
	o := buildOptions([]LockOption{Wait(1500 * time.Microsecond), Semaphore(2, 5), LeaseTimeout(3 * time.Second), Owner(4)})
	if o.mode != "permits" || o.permits != 2 || o.maxPermits != 5 || o.owner != 4 {
		t.Fatalf("%+v", o)
	}
	if millis(o.wait) != 2 || millis(o.lease) != 3000 || millis(0) != 0 {
		t.Fatalf("millis: %d %d", millis(o.wait), millis(o.lease))
	}
	if err := o.validate("x"); err != nil {
		t.Fatal(err)
	}
	if o := buildOptions([]LockOption{Shared()}); o.mode != "shared" || o.validate("x") != nil {
		t.Fatalf("%+v", o)
	}
	if o := buildOptions(nil); o.mode != "exclusive" || o.wait != 0 || o.lease != 0 {
		t.Fatalf("defaults %+v", o)
	}
}

func TestEscapePath(t *testing.T) {
	if got := escapePath("jobs/night ly/%"); got != "jobs/night%20ly/%25" {
		t.Fatalf("%q", got)
	}
}

func TestSessionIDShape(t *testing.T) {
	for i := 0; i < 200; i++ {
		id, err := newSessionID()
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 22 || !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef", rune(id[0])) {
			t.Fatalf("bad id %q", id)
		}
		for _, r := range id {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				t.Fatalf("bad character in %q", id)
			}
		}
	}
}
