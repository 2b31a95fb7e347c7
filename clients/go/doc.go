// Package holdfast is a client of Holdfast, a distributed lock service, over
// its JSON/HTTP protocol (docs/protocol.md in the repository). It uses the
// standard library only.
//
// A Client is one session: New opens it at a home member (one of Members,
// picked at random; Config.Calls) and keeps it alive;
// Lock, Semaphore and LockAll acquire grants, each a Lease with a fencing
// token; Register reads and compare-and-sets small versioned values; Watch
// follows locks or a register (the state, then every change); Election
// campaigns and tells who leads; Close ends the session and releases
// everything.
//
//	c, err := holdfast.New(ctx, holdfast.Config{Members: []string{"http://127.0.0.1:4655"}})
//	if err != nil { … }
//	defer c.Close()
//	lease, err := c.Lock(ctx, "jobs/nightly", holdfast.Wait(30*time.Second))
//	if err != nil { … }
//	defer lease.Release()
//	… use lease.FencingToken(); watch lease.Lost() …
//
// What the library guarantees (with a cluster that keeps the protocol's):
//
//   - Every change (acquire, release, renew, cancel, register write, close)
//     carries a request id; a request whose answer was lost (broken
//     connection, timeout, 503, 504) is sent again with the same id, at the
//     leader, so it is never applied twice and its answer is its first one.
//   - A wait survives a leader change: the acquire is re-sent to the new
//     leader, where it keeps its place in the queue and its deadline.
//   - Every loss is reported: revokes, lease timeouts and session expiry
//     reach the lease (Valid false, Lost() closed, the OnLost callback) from
//     the session's event stream, normally within a second; a gap in the
//     stream is resolved from the session's state. A session whose
//     heartbeats go unacknowledged for a whole TTL (counted from the sending
//     of the last acknowledged one) is expired locally, even when no member
//     answers.
//
// What it does not guarantee: that a lease is still held at the moment the
// caller acts on Valid. Use the fencing token for exclusion that does not
// depend on timing.
//
// Every error about the cluster's answer is an *Error with the protocol's
// code; compare with errors.Is(err, holdfast.ErrLockTimeout) and the other
// sentinels.
package holdfast
