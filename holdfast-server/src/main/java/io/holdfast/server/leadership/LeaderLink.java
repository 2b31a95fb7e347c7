package io.holdfast.server.leadership;

import io.holdfast.UnavailableException;
import io.holdfast.internal.Causes;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.raft.TableQuery;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.client.impl.RaftClientImpl;
import org.apache.ratis.client.impl.UnorderedAsync;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * What a member asks whichever member leads: a Ratis client of the node's own group over the Raft
 * port (with the port's mutual TLS), kept open and rebuilt when the group's members change. Its
 * uses: the round of relayed heartbeats ({@link TableQuery.TouchSessions}), forwarded writes
 * ({@link io.holdfast.server.raft.Forward}) and read indexes ({@link
 * io.holdfast.server.raft.ReadIndex}) of a member that does not lead (ADR 0003).
 *
 * <p><b>Guarantees.</b> {@link #askAsync} completes with the leader's answer, or fails with {@link
 * UnavailableException} within about {@code timeoutMillis} for each member it tries (the leader is
 * found through Ratis's redirects: a member that does not lead names the one that does); {@link
 * #ask} waits for it. Every request of a link rides one long-lived gRPC stream per member, unordered
 * (Ratis's unordered asynchronous stream): requests in flight do not wait for each other, and
 * none opens a stream of its own. Ratis's blocking client opened one for each call: one client's
 * writes at a follower went from 81 to 126 a second, and the servers' CPU per write from 14.7 to
 * 9.0 ms, when they moved to the one stream (docs/benchmarks.md, "A forwarded write on one
 * stream"). At most {@code maxInFlight} requests wait for their answers at once ({@link Turns}). A
 * failed try is logged by Ratis at DEBUG, not with a stack trace.
 *
 * <p><b>Does not</b> retry past that, or decide what a refusal means: the caller does.
 *
 * <p><b>A failure it rules out.</b> The request is Ratis's non-linearizable read, which only a
 * leader answers (a member that does not lead redirects). Ratis's linearizable read would be
 * answered by the member it reaches, from its own state machine after a read index: a forwarded
 * write would then be refused by a follower instead of reaching the leader's gate.
 */
public final class LeaderLink implements AutoCloseable {
    /** The pause between two tries (a member that redirected, then the leader it named). */
    private static final long RETRY_SLEEP_MILLIS = 20;
    /** Closes each client the link lets go of on a daemon thread of its own. */
    private static final Executor CLOSE_APART = DaemonThreads.threadPerTask("holdfast-leader-link-close");

    private final Executor closer;

    private final RaftServer server;
    private final RaftGroupId groupId;
    private final Parameters parameters;
    private final long timeoutMillis;
    private RaftClient client;
    /**
     * The server's configuration the client was last checked against: the server keeps one
     * object until its members change, while its group is made anew at each call.
     */
    private RaftConfiguration checkedConf;

    private RaftGroup clientGroup;
    /** Whether the link starts at each new leader this member learns of (see the constructor). */
    private final boolean followsNewLeaders;
    /** The last leader this member named that the link started at; null before the first. */
    private RaftPeerId followed;

    private boolean closed;
    private final Turns<TableQuery, ByteString> turns;

    /**
     * @param timeoutMillis how long one try waits for a member's answer
     * @param maxInFlight how many requests may wait for an answer at once; more wait their turn,
     *     unsent: a try's timeout counts from its sending, so a burst sent at once would time out
     *     in the leader's queue, and Ratis then tries a member at random
     */
    public LeaderLink(
            RaftServer server, RaftGroupId groupId, Parameters parameters, long timeoutMillis, int maxInFlight) {
        this(server, groupId, parameters, timeoutMillis, maxInFlight, false);
    }

    /**
     * @param followsNewLeaders whether the next request after this member learns of a new leader
     *     (another member) goes to it first, on a client built anew for it (Ratis's client keeps the
     *     member its last try ended at: after a leader's death at 100,000 sessions the relay's
     *     rounds went to this member itself for 1.3 s after it followed the new leader, each try
     *     redirected); only for a link with one request in flight, since the old client is closed
     */
    public LeaderLink(
            RaftServer server,
            RaftGroupId groupId,
            Parameters parameters,
            long timeoutMillis,
            int maxInFlight,
            boolean followsNewLeaders) {
        this(server, groupId, parameters, timeoutMillis, maxInFlight, followsNewLeaders, CLOSE_APART);
    }

    /**
     * @param closer where a client the link let go of is closed ({@link #closeClient}): never on
     *     the request's path
     */
    public LeaderLink(
            RaftServer server,
            RaftGroupId groupId,
            Parameters parameters,
            long timeoutMillis,
            int maxInFlight,
            boolean followsNewLeaders,
            Executor closer) {
        this.closer = closer;
        this.followsNewLeaders = followsNewLeaders;
        this.turns = new Turns<>(maxInFlight, this::send);
        this.server = server;
        this.groupId = groupId;
        this.parameters = parameters;
        this.timeoutMillis = timeoutMillis;
    }

    /**
     * The leader's answer to {@code query}: a read-only request that Ratis hands to the leader's
     * state machine ({@code StateMachine#query}). Never blocks; completes on a thread of Ratis's
     * client.
     *
     * @return the answer, or a future failed with {@link UnavailableException} if no leader answered
     */
    public CompletableFuture<ByteString> askAsync(TableQuery query) {
        return turns.ask(query);
    }

    private CompletableFuture<ByteString> send(TableQuery query) {
        RaftClient c;
        try {
            synchronized (this) {
                c = client();
            }
        } catch (IOException e) {
            return CompletableFuture.failedFuture(
                    new UnavailableException("this member cannot reach its group: " + Causes.rootMessage(e), e));
        }
        CompletableFuture<RaftClientReply> reply;
        try {
            // Ratis's non-linearizable read on the client's unordered stream; to the leader it
            // knows (server null), redirected by a member that does not lead.
            reply = UnorderedAsync.send(
                    RaftClientRequest.readRequestType(true), query.message(), null, (RaftClientImpl) c);
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        return reply.handle((r, e) -> {
            if (e != null) {
                throw new CompletionException(unavailable(e));
            }
            if (!r.isSuccess()) {
                throw new CompletionException(new UnavailableException("no leader answered: " + why(r.getException())));
            }
            return r.getMessage().getContent();
        });
    }

    /**
     * {@link #askAsync}, waited for: at most a try's timeout for each member and one more.
     *
     * @throws UnavailableException if no leader answered
     */
    public ByteString ask(TableQuery query) {
        CompletableFuture<ByteString> answer = askAsync(query);
        try {
            return answer.get(waitBoundMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            answer.cancel(false);
            Thread.currentThread().interrupt();
            throw new UnavailableException("interrupted while asking the leader", e);
        } catch (TimeoutException e) {
            answer.cancel(false);
            throw new UnavailableException("no leader answered within " + waitBoundMillis() + " ms", e);
        } catch (ExecutionException e) {
            throw unavailable(e.getCause());
        }
    }

    /**
     * {@code leader} asked {@code query} ({@link #askAsync} or a stand-in), with a failure to ask
     * as a failed future rather than thrown.
     */
    public static CompletableFuture<ByteString> asked(
            Function<TableQuery, CompletableFuture<ByteString>> leader, TableQuery query) {
        try {
            return leader.apply(query);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * What an answer of {@link #askAsync} holds: its content, or its failure thrown as the {@link
     * UnavailableException} it is (any other failure said as one).
     *
     * @param content the answer's content; read only when {@code failure} is null
     * @param failure how the answer failed, or null
     * @throws UnavailableException if it failed
     */
    public static ByteString content(ByteString content, Throwable failure) {
        if (failure == null) {
            return content;
        }
        throw unavailable(failure);
    }

    /** {@code failure} as the {@link UnavailableException} it is or holds, else said as one. */
    private static UnavailableException unavailable(Throwable failure) {
        Throwable cause =
                failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        return cause instanceof UnavailableException u
                ? u
                : new UnavailableException("no leader answered: " + why(cause), cause);
    }

    private synchronized long waitBoundMillis() {
        int members = clientGroup == null ? 1 : clientGroup.getPeers().size();
        return (members + 1) * (timeoutMillis + RETRY_SLEEP_MILLIS);
    }

    /**
     * Why no leader answered, in words: Ratis's own message when its tries ran out names the
     * request, its call id and the retry policy (seen by HTTP clients at a follower during an
     * election), so it is said plainly, with what the last try met when Ratis kept it.
     */
    static String why(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof org.apache.ratis.protocol.exceptions.RaftRetryFailureException retries) {
                Throwable last = retries.getCause();
                return "every member was asked and none answered as leader"
                        + (last == null ? "" : " (the last: " + Causes.rootMessage(last) + ")")
                        + "; an election may be under way";
            }
        }
        return Causes.rootMessage(e);
    }

    private RaftClient client() throws IOException {
        if (closed) {
            throw new IOException("closed");
        }
        RaftServer.Division division = server.getDivision(groupId);
        RaftPeerId leader = followsNewLeaders ? newLeader(division) : null;
        if (leader != null && client != null && !leader.equals(client.getLeaderId())) {
            closeClient(); // built anew below, starting at the new leader
        }
        RaftConfiguration conf = division.getRaftConf();
        if (client != null && conf == checkedConf) {
            return client;
        }
        RaftGroup group = RaftSettings.raftAddressesOnly(division.getGroup());
        if (client != null && group.equals(clientGroup)) {
            checkedConf = conf;
            return client;
        }
        closeClient();
        RaftProperties properties = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(
                properties, TimeDuration.valueOf(timeoutMillis, TimeUnit.MILLISECONDS));
        RaftClient.Builder builder = RaftClient.newBuilder();
        RaftPeerId known = division.getInfo().getLeaderId();
        if (known != null && !known.equals(server.getId()) && group.getPeer(known) != null) {
            builder.setLeaderId(known);
        }
        client = builder.setRaftGroup(group)
                .setProperties(properties)
                .setParameters(parameters)
                // one try per member: a member that does not lead redirects to the one that does
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                        group.getPeers().size(), TimeDuration.valueOf(RETRY_SLEEP_MILLIS, TimeUnit.MILLISECONDS)))
                .setClientRpc(RaftSettings.clientRpc(parameters, properties))
                .build();
        clientGroup = group;
        checkedConf = conf;
        return client;
    }

    /**
     * The leader {@code division} names when it is another member and not the one the link last
     * started at (which it then becomes); null otherwise.
     */
    private RaftPeerId newLeader(RaftServer.Division division) {
        RaftPeerId leader = division.getInfo().getLeaderId();
        if (leader == null || leader.equals(server.getId()) || leader.equals(followed)) {
            return null;
        }
        followed = leader;
        return leader;
    }

    /**
     * Lets go of the client for the next request to build another, and closes it on a thread of its
     * own: Ratis closes each of its channels by waiting up to 3 s for the calls on it to end, then
     * up to 2 s more (its {@code GrpcUtil.shutdownManagedChannel}), and the client's unordered
     * stream is such a call while requests on it are still pending at a member. Closed here, under
     * this link's lock, it held the request that found a new leader for those seconds: stop 90's CI
     * rehearsal saw a follower's relay and forwarded writes stand 3.4 s after it followed the new
     * leader, until "Timed out gracefully shutting down connection". Requests still in flight on
     * the old client end as its close ends them (an answer, or a failure their callers take as
     * unavailability).
     */
    private void closeClient() {
        closeClient(closer);
    }

    private void closeClient(Executor how) {
        if (client != null) {
            RaftClient old = client;
            client = null;
            clientGroup = null;
            checkedConf = null;
            how.execute(() -> {
                try {
                    old.close();
                } catch (IOException ignored) {
                    // closing
                }
            });
        }
    }

    /** Closes the link and its client, waiting for the client's close (the node is stopping). */
    @Override
    public synchronized void close() {
        closed = true;
        closeClient(Runnable::run);
    }
}
