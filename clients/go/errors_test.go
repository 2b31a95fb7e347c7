package holdfast

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseErrorCodes(t *testing.T) {
	cases := []struct {
		status   int
		body     string
		sentinel error
	}{
		{409, `{"error":{"code":"TIMEOUT","message":"jobs/a was not granted within 200 ms"}}`, ErrLockTimeout},
		{400, `{"error":{"code":"INVALID_ARGUMENT","message":"name has an empty segment"}}`, ErrInvalidArgument},
		{409, `{"error":{"code":"LOCK_LOST","message":"lost","token":7}}`, ErrLockLost},
		{409, `{"error":{"code":"NOT_OWNER","message":"not held"}}`, ErrNotOwner},
		{409, `{"error":{"code":"CONFLICT","message":"version 5","currentVersion":5}}`, ErrConflict},
		{409, `{"error":{"code":"DEADLOCK","message":"cycle","cycle":["a","b"]}}`, ErrDeadlock},
		{410, `{"error":{"code":"SESSION_EXPIRED","message":"gone"}}`, ErrSessionExpired},
		{503, `{"error":{"code":"UNAVAILABLE","message":"no quorum"}}`, ErrUnavailable},
		{403, `{"error":{"code":"PERMISSION_DENIED","message":"no"}}`, ErrPermissionDenied},
		{429, `{"error":{"code":"QUOTA_EXCEEDED","message":"too many"}}`, ErrQuotaExceeded},
		{404, `{"error":{"code":"NOT_FOUND","message":"no such register"}}`, ErrNotFound},
	}
	all := []error{ErrLockTimeout, ErrInvalidArgument, ErrLockLost, ErrNotOwner, ErrConflict, ErrDeadlock,
		ErrSessionExpired, ErrUnavailable, ErrPermissionDenied, ErrQuotaExceeded, ErrNotFound}
	for _, tc := range cases {
		e, _ := parseError(tc.status, []byte(tc.body))
		var err error = fmt.Errorf("wrapped: %w", e)
		if !errors.Is(err, tc.sentinel) {
			t.Errorf("%s: errors.Is(%v, %v) = false", tc.body, err, tc.sentinel)
		}
		for _, other := range all {
			if other != tc.sentinel && errors.Is(err, other) {
				t.Errorf("%s: also matches %v", tc.body, other)
			}
		}
		if e.Status != tc.status {
			t.Errorf("status %d, want %d", e.Status, tc.status)
		}
		if !strings.HasPrefix(e.Error(), "holdfast: ") || strings.Contains(e.Error(), "\n") {
			t.Errorf("message %q: want one line starting with holdfast:", e.Error())
		}
	}
}

func TestParseErrorExtraFields(t *testing.T) {
	e, _ := parseError(409, []byte(`{"error":{"code":"CONFLICT","message":"m","currentVersion":12}}`))
	if e.CurrentVersion != 12 {
		t.Fatalf("currentVersion %d, want 12", e.CurrentVersion)
	}
	var he *Error
	if !errors.As(fmt.Errorf("x: %w", e), &he) || he.CurrentVersion != 12 {
		t.Fatalf("errors.As lost the current version")
	}
	e, _ = parseError(409, []byte(`{"error":{"code":"DEADLOCK","message":"m","cycle":["a","b"]}}`))
	if len(e.Cycle) != 2 || e.Cycle[0] != "a" {
		t.Fatalf("cycle %v", e.Cycle)
	}
}

func TestParseErrorNotLeader(t *testing.T) {
	e, leader := parseError(503, []byte(`{"error":{"code":"NOT_LEADER","message":"n1 does not lead","leader":"n2","leaderClientAddress":"10.0.0.2:4653"}}`))
	if e.Code != CodeNotLeader || leader != "n2" {
		t.Fatalf("code %s leader %q", e.Code, leader)
	}
	_, leader = parseError(503, []byte(`{"error":{"code":"NOT_LEADER","message":"election","leader":null}}`))
	if leader != "" {
		t.Fatalf("leader %q during an election, want none", leader)
	}
}

func TestParseErrorWithoutProtocolBody(t *testing.T) {
	e, _ := parseError(502, []byte("<html>\nBad gateway\n</html>"))
	if e.Code != CodeUnavailable || strings.Contains(e.Message, "\n") || !strings.Contains(e.Message, "502") {
		t.Fatalf("got %+v", e)
	}
	e, _ = parseError(404, nil)
	if e.Code != CodeNotFound || e.Message != "HTTP 404" {
		t.Fatalf("got %+v", e)
	}
	e, _ = parseError(504, []byte(`{"error":{"code":"TIMEOUT","message":"the cluster did not answer"}}`))
	if !retryable(504) || e.Code != CodeTimeout {
		t.Fatalf("504 must be retryable TIMEOUT: %+v", e)
	}
}

func TestRetryable(t *testing.T) {
	for _, s := range []int{503, 504} {
		if !retryable(s) {
			t.Errorf("%d not retryable", s)
		}
	}
	for _, s := range []int{200, 201, 400, 401, 403, 404, 409, 410, 429, 500} {
		if retryable(s) {
			t.Errorf("%d retryable", s)
		}
	}
}

func TestErrorIsMatchesCodeOnly(t *testing.T) {
	a := &Error{Code: CodeConflict, Message: "one"}
	b := &Error{Code: CodeConflict, Message: "two", CurrentVersion: 3}
	if !errors.Is(a, b) || errors.Is(a, ErrNotOwner) {
		t.Fatal("Is must compare codes")
	}
	if errors.Is(errors.New("holdfast: CONFLICT"), ErrConflict) {
		t.Fatal("a plain error is not a holdfast error")
	}
}

func TestDescribeNetError(t *testing.T) {
	if got := describeNetError(fmt.Errorf("dial: %w", errors.New("x")), 0).Error(); strings.Contains(got, "\n") {
		t.Fatalf("%q", got)
	}
}
