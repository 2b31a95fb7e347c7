package io.holdfast.client.internal;

import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.DistributedLock;
import io.holdfast.DistributedMultiLock;
import io.holdfast.DistributedReadWriteLock;
import io.holdfast.DistributedSemaphore;
import io.holdfast.Keys;
import io.holdfast.Lease;
import io.holdfast.LockMode;
import io.holdfast.SessionExpiredException;
import io.holdfast.SessionListener;
import io.holdfast.UnavailableException;
import io.holdfast.VersionedRegister;
import io.holdfast.Watch;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import io.holdfast.internal.CrashSimulation;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.internal.WatchRunner;
import io.holdfast.lease.Acquirer;
import io.holdfast.lease.Handles;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import io.holdfast.model.SessionIds;
import io.holdfast.protocol.SpanName;
import io.holdfast.protocol.Spans;
import io.holdfast.recipes.Recipes;
import io.holdfast.spi.AbstractLockClient;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The client half of Holdfast over any {@link LockService}: one session, its heartbeats, the
 * leases it holds and the waits it has queued. A small facade over the parts, each with its own
 * contract, in the shape of etcd's {@code concurrency} package:
 *
 * <ul>
 *   <li>{@link ClientSession}: the session's id, state and heartbeats; it expires once, when the
 *       service says so or no heartbeat was acknowledged for a whole TTL;
 *   <li>{@link Requests}: every changing request numbered by the session's invocation ledger,
 *       retried on unavailability with the same invocation, and the requests whose outcome the
 *       client must know sent again until it does;
 *   <li>{@link Waits}: the acquires in flight, settled by reply, event, backstop or withdrawal;
 *   <li>{@link LeaseRegistry}: the leases held (their state machine is holdfast-lease's {@link
 *       io.holdfast.lease.ManagedLease}), lost when the service or the session says so;
 *   <li>{@link ClientThreads}: the timer thread and the callback pool; a caller's code never runs
 *       on a transport thread;
 *   <li>{@link Recipes}: elections, latches, barriers and waits for a free lock, on the client's
 *       ticker and timer thread;
 *   <li>{@link RuntimeKeys}: the keys, each write one command under the session's invocation.
 * </ul>
 *
 * <p>This class gives the handles ({@link
 * Handles}) their {@link Acquirer}, a {@link RuntimeAcquirer}: a blocking acquire is made on behalf
 * of the calling thread (one owner id per thread), so the service's deadlock detection sees what
 * each thread holds; an asynchronous acquire gets an owner id of its own.
 *
 * <p><b>Sessions</b> ({@link ClientSessions}). The parts of one session are a {@link LiveSession}. When it is lost, its
 * leases and waits go with it and the {@link SessionListener}s are told; then, unless the options
 * say {@code renewSessions(false)} (or the client is cut off: a simulated crash), a {@link
 * SessionRenewal} opens the next session, a new {@link LiveSession} with a new id, and the
 * listeners are told again (ADR 0004). Between the two, a call that needs a session waits for the
 * next within its own timeout; reads and watches go on without one.
 */
public final class ClientRuntime extends AbstractLockClient implements CrashSimulation {
    private final String providerName;
    private final LockService transport;
    private final ClientOptions options;
    private final Set<Capability> capabilities;

    private final ClientThreads threads;
    private final AdminHandle admin = new AdminHandle(this);
    private final Acquirer acquirer;
    private final RuntimeRegistrar registrar;
    private final RuntimeKeys keys = new RuntimeKeys(this);
    private final Recipes recipes;
    private final ClientSessions sessions;
    private final String firstId;

    private ClientRuntime(String providerName, LockService transport, ClientOptions options, Set<Capability> caps) {
        this.providerName = providerName;
        this.transport = transport;
        this.options = options;
        this.capabilities = caps.isEmpty() ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(caps);
        String id = SessionIds.newId();
        this.threads = new ClientThreads(id.substring(0, 6), options.scheduler(), options.callbackExecutor());
        this.sessions = new ClientSessions(this, transport, options, threads, new SessionListener() {
            @Override
            public void lost(String oldId, String cause) {
                sessionLost(oldId, cause, threads.callbacks());
            }

            @Override
            public void reestablished(String newId) {
                sessionReestablished(newId, threads.callbacks());
            }
        });
        this.acquirer = new RuntimeAcquirer(providerName, capabilities, this);
        this.registrar = new RuntimeRegistrar(this);
        this.recipes = new Recipes(this, options.ticker(), threads.timers(), threads.callbacks());
        this.firstId = id;
    }

    /**
     * Opens a session over the transport and starts its heartbeats.
     *
     * @throws UnavailableException if the session could not be opened
     */
    public static ClientRuntime open(
            String providerName, LockService transport, ClientOptions options, Set<Capability> capabilities) {
        return open(providerName, "the " + providerName + " service", transport, options, capabilities);
    }

    /**
     * Opens a session over the transport and starts its heartbeats, within the connect timeout
     * ({@link ClientOptions#connectTimeout()}, counted from this call): the session is asked for
     * again with the retry policy's backoff while the service cannot be reached, but never after
     * the connect timeout has run out.
     *
     * @param target what the transport reaches, for messages (the members' addresses; never
     *     secrets)
     * @throws UnavailableException naming the target and the last failure if the session could not
     *     be opened in time
     */
    public static ClientRuntime open(
            String providerName,
            String target,
            LockService transport,
            ClientOptions options,
            Set<Capability> capabilities) {
        Handles.requireOptions(providerName, capabilities, options);
        ClientRuntime rt = new ClientRuntime(providerName, transport, options, capabilities);
        rt.start(target);
        return rt;
    }

    private void start(String target) {
        long begun = options.ticker().nanos();
        LiveSession session = sessions.first(firstId);
        long sent = options.ticker().nanos();
        Reply reply;
        Span span = session.requests().tracing().start(SpanName.SESSION_OPEN.text(), null);
        try (Scope ignored = Spans.current(span)) {
            // The event stream's start counts against the connect timeout too: it is a deadline.
            reply = Replies.join(session.requests().open(sessions.openCommand(session.id()), target, begun));
        } catch (RuntimeException e) {
            ClientTracing.end(span, e);
            transport.unsubscribe(session.id());
            threads.shutdown();
            throw e;
        }
        if (!(reply instanceof Reply.Ok)) {
            RuntimeException failure = Replies.failure(reply);
            ClientTracing.end(span, failure);
            threads.shutdown();
            throw failure;
        }
        ClientTracing.end(span, null);
        session.session().opened(sent);
    }

    // ------------------------------------------------------------------------------ LockClient

    @Override
    public DistributedLock lock(String name) {
        return Handles.lock(acquirer, name);
    }

    @Override
    public DistributedReadWriteLock readWriteLock(String name) {
        return Handles.readWriteLock(acquirer, name);
    }

    @Override
    public DistributedSemaphore semaphore(String name, int permits) {
        return Handles.semaphore(acquirer, name, permits);
    }

    @Override
    public DistributedMultiLock multiLock(Collection<String> names, LockMode mode) {
        return Handles.multiLock(acquirer, options.ticker(), names, mode);
    }

    @Override
    public VersionedRegister register(String key) {
        return Handles.register(acquirer, registrar, key);
    }

    @Override
    public Keys keys() {
        return Handles.keys(acquirer, keys);
    }

    @Override
    protected Recipes recipes() {
        return recipes;
    }

    /** Long-polls the service's record of changes where it keeps one ({@link Capability#WATCH}); else polls. */
    @Override
    public Watch watch(WatchTarget target, WatchListener listener) {
        return watch(target, null, listener);
    }

    /**
     * A watch from {@code from}, a position the service gave (a listing's, an event's): the changes
     * after it, or a {@code STATE} first where the service no longer has them all; null or "" to
     * start with the state.
     *
     * @throws io.holdfast.InvalidArgumentException when {@code from} is no position ({@code index.ordinal})
     */
    Watch watch(WatchTarget target, String from, WatchListener listener) {
        if (from != null && !from.isEmpty() && io.holdfast.model.ChangePosition.parse(from) == null) {
            throw new io.holdfast.InvalidArgumentException(
                    "the position '" + from + "' is not one the service gave (index.ordinal, as a listing answers it)");
        }
        if (target == null || !capabilities.contains(Capability.WATCH)) {
            return super.watch(target, listener);
        }
        if (!sessions.readsBetweenSessions()) {
            sessions.current().session().ensureOpen();
        }
        var feed = new ServiceFeed(
                this::query,
                options.requestTimeout().dividedBy(2),
                sessions.current().requests().tracing());
        return WatchRunner.startFrom(
                from,
                feed,
                target,
                listener,
                this::isOpen,
                () -> sessions.current().session().lost(),
                DaemonThreads.threadPerTask("holdfast-watch " + target),
                threads.timers());
    }

    @Override
    public Admin admin() {
        return admin;
    }

    @Override
    public Set<Capability> capabilities() {
        return capabilities.isEmpty() ? Set.of() : EnumSet.copyOf(capabilities);
    }

    @Override
    public String sessionId() {
        return sessions.current().id();
    }

    @Override
    public boolean isOpen() {
        return sessions.isOpen();
    }

    @Override
    public void close() {
        LiveSession session = sessions.close();
        if (session == null) {
            return;
        }
        ClientSession heartbeats = session.session();
        boolean wasOpen = heartbeats.close();
        session.leases().releaseAll();
        session.waits().failAll(new SessionExpiredException("the client was closed"));
        if (wasOpen && !heartbeats.isSevered()) {
            Command.Invocation inv = session.requests().begin();
            try {
                transport
                        .submit(new Command.CloseSession(inv))
                        .get(options.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                // The session will expire after its TTL instead.
            }
        }
        transport.unsubscribe(session.id());
        threads.shutdown();
        session.requests().failInFlight(new SessionExpiredException("the client was closed"));
        transport.close();
    }

    /**
     * For tests of failure handling only ({@link CrashSimulation}): behave as if this process had
     * died. Nothing more is sent, so the service expires the session after its TTL; the client
     * notices on its own and reports its leases lost.
     */
    @Override
    public void simulateCrash() {
        sessions.sever();
    }

    @Override
    public String toString() {
        return "LockClient[" + providerName + ", session " + sessions.current().session() + "]";
    }

    // ------------------------------------------------------------------------------ for the handles

    void requireCapability(Capability capability, String feature) {
        Handles.require(acquirer, capability, feature);
    }

    /**
     * @throws SessionExpiredException if the session is lost and the client does not renew it
     * @throws io.holdfast.UnavailableException if no new session opened within the request timeout
     */
    void ensureOpen() {
        Replies.join(live(options.requestTimeout())).session().ensureOpen();
    }

    /** The open session; between two, the next one within {@code timeout} ({@link ClientSessions#live}). */
    CompletableFuture<LiveSession> live(Duration timeout) {
        return sessions.live(timeout);
    }

    /** The client's options (its ticker and timeouts). */
    ClientOptions options() {
        return options;
    }

    /** Sends a command, retrying on unavailability with the retry policy; never retries a reply. */
    CompletableFuture<Reply> call(Command command) {
        return live(options.requestTimeout())
                .thenCompose(session -> session.requests().call(command));
    }

    /** Sends a command that needs an invocation; its number ends with the reply. */
    CompletableFuture<Reply> callOnce(Function<Command.Invocation, Command> build) {
        return live(options.requestTimeout())
                .thenCompose(session -> session.requests().callOnce(build));
    }

    /** A read, retried on unavailability like a command; between two sessions too, if the client renews. */
    <T> CompletableFuture<T> query(Function<LockService, CompletableFuture<T>> read) {
        return sessions.query(read);
    }

    /** The future for a caller of an async method: completed on a callback thread. */
    <T> CompletableFuture<T> toCaller(CompletableFuture<T> internal) {
        return threads.toCaller(internal);
    }

    /** Whether the lease is one of this client's, of any of its sessions (held or not any more). */
    boolean isOwnLease(Lease lease) {
        return LeaseRegistry.issuedBy(this, lease);
    }

    /** Timers waiting on the client's timer thread (for tests: they must not pile up). */
    int pendingTimers() {
        return threads.pendingTimers();
    }
}
