package io.holdfast.protocol;

/**
 * Every name Holdfast gives its spans, in the OpenTelemetry style {@code holdfast.<noun>.<verb>}:
 * the one home of those names, so that a request has the same span name over gRPC and over HTTP,
 * and a client's span (holdfast-client's {@code ClientTracing}) the name of the server's span it
 * leads to. It lives with the wire, which both sides carry.
 *
 * <p>On the server, a request that submits a command is named by the command ({@code
 * RequestSpan.of} in holdfast-endpoint, a visitor: a new command does not compile until it has its
 * name here); a request that reads the service is named by the read ({@code RequestSpan.read}). gRPC's calls and the HTTP port's route table
 * ({@code HttpRoutes} in holdfast-server, a column per route) use these constants and no strings of
 * their own. Two names are of spans inside a request: {@link #COMMIT} and {@link #ACQUIRE_QUEUED}.
 *
 * <p>Not traced, over either transport: a session's background (its heartbeats and its event
 * stream), and the HTTP port's own routes (probes, metrics, who am I, a backup's download).
 */
public enum SpanName {
    // ------------------------------------------------------------ requests that submit a command

    /** {@code OpenSession}. */
    SESSION_OPEN("holdfast.session.open"),
    /** {@code CloseSession}, and {@code EndSession} (an end as if the heartbeats had stopped). */
    SESSION_CLOSE("holdfast.session.close"),
    /** {@code KeepAlive} as a command (a heartbeat is not traced: see above). */
    SESSION_KEEPALIVE("holdfast.session.keepalive"),
    /** {@code ExpireSession}: the members' own, refused from a client. */
    SESSION_EXPIRE("holdfast.session.expire"),
    /** {@code Acquire} and {@code AcquireAll}. */
    ACQUIRE("holdfast.acquire"),
    /** {@code Release}. */
    RELEASE("holdfast.release"),
    /** {@code Renew}. */
    RENEW("holdfast.renew"),
    /** {@code CancelWait}. */
    ACQUIRE_CANCEL("holdfast.acquire.cancel"),
    /**
     * {@code RegisterSet}: a register's write. A key's put is named by the command its client sends
     * for it: this one, or {@link #KEY_TXN} for a transaction of that one put.
     */
    REGISTER_SET("holdfast.register.set"),
    /** {@code KeyDelete}. */
    KEY_DELETE("holdfast.key.delete"),
    /** {@code KeyDeletePrefix}: one page of a prefix delete. */
    KEY_DELETE_PREFIX("holdfast.key.delete.prefix"),
    /** {@code CounterAdd}. */
    KEY_ADD("holdfast.key.add"),
    /** {@code Transaction}, a key's put among them when sent as a transaction of that one put. */
    KEY_TXN("holdfast.key.txn"),
    /** {@code Revoke}: an operator takes a lock's grants away. */
    LOCK_REVOKE("holdfast.lock.revoke"),
    /** {@code SetAccessRules}. */
    ACCESS_SET("holdfast.access.set"),
    /** {@code RevokeToken}. */
    TOKEN_REVOKE("holdfast.token.revoke"),
    /** {@code ReportVersion}: the members' own, refused from a client. */
    VERSION_REPORT("holdfast.version.report"),
    /** {@code Tick}: the leader's own, refused from a client. */
    TICK("holdfast.tick"),
    /** {@code SetQuotas}: the leader's own (from its {@code --limit} options), refused from a client. */
    QUOTAS_SET("holdfast.quotas.set"),

    // ------------------------------------------------------------------ requests that read

    /** One lock (gRPC {@code Describe}; HTTP {@code GET /api/v1/locks/{name}}). */
    LOCK_DESCRIBE("holdfast.lock.describe"),
    /** Locks by prefix (gRPC {@code List}; HTTP {@code GET /api/v1/locks}). */
    LOCK_LIST("holdfast.lock.list"),
    /** Whether a token is a current grant (gRPC {@code IsCurrentHolder}; HTTP {@code GET /api/v1/fence}). */
    FENCE_CHECK("holdfast.fence.check"),
    /** A register (gRPC {@code ReadRegister}; HTTP {@code GET /api/v1/registers/{key}}). */
    REGISTER_READ("holdfast.register.read"),
    /** A page of keys (gRPC {@code Keys}; HTTP {@code GET /api/v1/keys} and a key's {@code GET}, which reads one). */
    KEY_LIST("holdfast.key.list"),
    /** A page of sessions (gRPC {@code Sessions}; HTTP {@code GET /api/v1/sessions}). */
    SESSION_LIST("holdfast.session.list"),
    /** The members (gRPC {@code Members}; HTTP {@code GET /api/v1/status}). */
    MEMBER_LIST("holdfast.member.list"),
    /** A change of the members (gRPC {@code ChangeMembers}; HTTP {@code POST /api/v1/members/…}). */
    MEMBER_CHANGE("holdfast.member.change"),
    /** A page of elections (HTTP only: {@code GET /api/v1/elections}). */
    ELECTION_LIST("holdfast.election.list"),
    /** One election (HTTP only: {@code GET /api/v1/elections/{name}}). */
    ELECTION_DESCRIBE("holdfast.election.describe"),
    /** A watch's long poll (gRPC {@code Watch}; HTTP {@code GET /api/v1/watch}). */
    WATCH_POLL("holdfast.watch.poll"),

    // ---------------------------------------------------------------- spans inside a request

    /** From the proposal of a command to the replicated table's answer. */
    COMMIT("holdfast.commit"),
    /** An acquire's time in the queue, from the "queued" answer until the wait is decided. */
    ACQUIRE_QUEUED("holdfast.acquire.queued");

    private final String text;

    SpanName(String text) {
        this.text = text;
    }

    /** The name as spans carry it. */
    public String text() {
        return text;
    }

    @Override
    public String toString() {
        return text;
    }
}
