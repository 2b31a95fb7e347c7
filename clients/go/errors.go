package holdfast

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Protocol error codes, as sent by the server in {"error":{"code":...}} and
// as carried by [Error.Code].
const (
	CodeTimeout          = "TIMEOUT"
	CodeInvalidArgument  = "INVALID_ARGUMENT"
	CodeLockLost         = "LOCK_LOST"
	CodeNotOwner         = "NOT_OWNER"
	CodeConflict         = "CONFLICT"
	CodeDeadlock         = "DEADLOCK"
	CodeSessionExpired   = "SESSION_EXPIRED"
	CodeUnavailable      = "UNAVAILABLE"
	CodePermissionDenied = "PERMISSION_DENIED"
	CodeQuotaExceeded    = "QUOTA_EXCEEDED"
	CodeNotFound         = "NOT_FOUND"
	// CodeNotLeader is only seen inside the library: a 503 NOT_LEADER is
	// retried at the leader and never returned to the caller.
	CodeNotLeader = "NOT_LEADER"
)

// Error is every error the library returns about the cluster's answer (or
// the lack of one). Code is the protocol's code; Message is one line naming
// the cause. Compare with errors.Is against the sentinels below, which match
// on Code alone:
//
//	if errors.Is(err, holdfast.ErrLockTimeout) { … }
//	var he *holdfast.Error
//	if errors.As(err, &he) && he.Code == holdfast.CodeConflict { use(he.CurrentVersion) }
type Error struct {
	// Code is the protocol's error code, e.g. "TIMEOUT" or "CONFLICT".
	Code string
	// Message is one line: the server's message, or the library's own.
	Message string
	// Status is the HTTP status of the answer; 0 when no member answered or
	// the library refused the call itself.
	Status int
	// CurrentVersion is the register's version for a CONFLICT.
	CurrentVersion int64
	// Holder is the session holding a group's member name, for the CONFLICT
	// of a refused Group.Join ("" for a key attached to no session).
	Holder string
	// Token is the fencing token of a grant that was lost (LOCK_LOST), if known.
	Token int64
	// Cycle names the locks of a DEADLOCK's cycle, if the server said.
	Cycle []string
	// Reason is why a lease was lost (LOCK_LOST from a lease), if known.
	Reason LossReason
}

// Error returns "holdfast: " followed by the message.
func (e *Error) Error() string {
	if e.Message == "" {
		return "holdfast: " + e.Code
	}
	return "holdfast: " + e.Message
}

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, holdfast.ErrConflict) holds for every CONFLICT.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is, one per code.
var (
	// ErrLockTimeout: not granted (no wait, or the wait ran out); nothing is held or queued.
	ErrLockTimeout = &Error{Code: CodeTimeout, Message: "not granted within the wait"}
	// ErrInvalidArgument: the request was refused as malformed; do not retry it unchanged.
	ErrInvalidArgument = &Error{Code: CodeInvalidArgument, Message: "invalid argument"}
	// ErrLockLost: a grant was lost (revoked, lease timeout, session expiry).
	ErrLockLost = &Error{Code: CodeLockLost, Message: "the lock was lost"}
	// ErrNotOwner: the session does not hold that grant.
	ErrNotOwner = &Error{Code: CodeNotOwner, Message: "not the owner"}
	// ErrConflict: a register's version is not the expected one (see Error.CurrentVersion).
	ErrConflict = &Error{Code: CodeConflict, Message: "version conflict"}
	// ErrDeadlock: the wait would close a cycle of waits.
	ErrDeadlock = &Error{Code: CodeDeadlock, Message: "deadlock"}
	// ErrSessionExpired: the session is gone (expired, ended, or the client closed).
	ErrSessionExpired = &Error{Code: CodeSessionExpired, Message: "the session expired"}
	// ErrUnavailable: no member gave a final answer in time; the message names the last cause.
	ErrUnavailable = &Error{Code: CodeUnavailable, Message: "unavailable"}
	// ErrPermissionDenied: the identity (bearer token) may not do that.
	ErrPermissionDenied = &Error{Code: CodePermissionDenied, Message: "permission denied"}
	// ErrQuotaExceeded: a quota of the identity or the cluster is used up.
	ErrQuotaExceeded = &Error{Code: CodeQuotaExceeded, Message: "quota exceeded"}
	// ErrNotFound: no such thing.
	ErrNotFound = &Error{Code: CodeNotFound, Message: "not found"}
)

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error struct {
		Code           string   `json:"code"`
		Message        string   `json:"message"`
		Leader         *string  `json:"leader"`
		CurrentVersion int64    `json:"currentVersion"`
		Token          int64    `json:"token"`
		Cycle          []string `json:"cycle"`
	} `json:"error"`
}

// parseError turns an error answer (status, body) into an *Error, and also
// returns the leader id named by a NOT_LEADER ("" when none). A body that is
// not the protocol's shape still gives an *Error with a code from the status.
func parseError(status int, body []byte) (*Error, string) {
	var b errorBody
	_ = json.Unmarshal(body, &b)
	code := b.Error.Code
	if code == "" {
		code = codeForStatus(status)
	}
	msg := oneLine(b.Error.Message)
	if msg == "" {
		text := oneLine(string(body))
		if len(text) > 200 {
			text = text[:200] + "…"
		}
		if text == "" {
			msg = fmt.Sprintf("HTTP %d", status)
		} else {
			msg = fmt.Sprintf("HTTP %d: %s", status, text)
		}
	}
	leader := ""
	if b.Error.Leader != nil {
		leader = *b.Error.Leader
	}
	return &Error{
		Code:           code,
		Message:        msg,
		Status:         status,
		CurrentVersion: b.Error.CurrentVersion,
		Token:          b.Error.Token,
		Cycle:          b.Error.Cycle,
	}, leader
}

// codeForStatus is the code of an error answer without a code.
func codeForStatus(status int) string {
	switch status {
	case 400:
		return CodeInvalidArgument
	case 401, 403:
		return CodePermissionDenied
	case 404:
		return CodeNotFound
	case 409:
		return CodeConflict
	case 410:
		return CodeSessionExpired
	case 429:
		return CodeQuotaExceeded
	case 504:
		return CodeTimeout
	default:
		return CodeUnavailable
	}
}

// retryable reports whether an answer means "the outcome is not known: send
// the same request again at the leader": 503 (NOT_LEADER, UNAVAILABLE) and 504.
func retryable(status int) bool {
	return status == 503 || status == 504
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "\r\n") {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}

func invalidArgument(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

func unavailable(format string, args ...any) *Error {
	return &Error{Code: CodeUnavailable, Message: fmt.Sprintf(format, args...)}
}
