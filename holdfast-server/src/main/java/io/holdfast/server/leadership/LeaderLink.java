package io.holdfast.server.leadership;

import io.holdfast.UnavailableException;
import io.holdfast.internal.Causes;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.raft.TableQuery;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * What a member asks whichever member leads: a Ratis client of the node's own group over the Raft
 * port (with the port's mutual TLS), kept open and rebuilt when the group's members change. Its
 * uses: the round of relayed heartbeats ({@link TableQuery.TouchSessions}), forwarded writes
 * ({@link io.holdfast.server.raft.Forward}) and read indexes ({@link
 * io.holdfast.server.raft.ReadIndex}) of a member that does not lead (ADR 0003). Several threads may
 * ask at once: each request goes on its own.
 *
 * <p><b>Guarantees.</b> {@link #ask} returns the leader's answer, or throws {@link
 * UnavailableException} within about {@code timeoutMillis} for each member it tries (the leader is
 * found through Ratis's redirects: a member that does not lead names the one that does). Blocking:
 * Ratis's asynchronous client logs an ERROR with a stack trace for each failed attempt, which a
 * member asking every 100 ms while the leader is down would fill its log with.
 *
 * <p><b>Does not</b> retry past that, or decide what a refusal means: the caller does.
 */
public final class LeaderLink implements AutoCloseable {
    private final RaftServer server;
    private final RaftGroupId groupId;
    private final Parameters parameters;
    private final long timeoutMillis;
    private RaftClient client;
    private RaftGroup clientGroup;
    private boolean closed;

    public LeaderLink(RaftServer server, RaftGroupId groupId, Parameters parameters, long timeoutMillis) {
        this.server = server;
        this.groupId = groupId;
        this.parameters = parameters;
        this.timeoutMillis = timeoutMillis;
    }

    /**
     * The leader's answer to {@code query}: a read-only request that Ratis hands to the leader's
     * state machine ({@code StateMachine#query}).
     *
     * @throws UnavailableException if no leader answered
     */
    public ByteString ask(TableQuery query) {
        RaftClient c;
        try {
            synchronized (this) {
                c = client();
            }
        } catch (IOException e) {
            throw new UnavailableException("this member cannot reach its group: " + Causes.rootMessage(e), e);
        }
        try {
            // Not Ratis's linearizable read: a member that does not lead would serve that from its
            // own state machine after a read index. This one goes to the leader (a member that does
            // not lead redirects), and the leader's answer checks its own lease.
            RaftClientReply reply = c.io().sendReadOnlyNonLinearizable(query.message());
            if (!reply.isSuccess()) {
                throw new UnavailableException("no leader answered: " + why(reply.getException()));
            }
            return reply.getMessage().getContent();
        } catch (InterruptedIOException e) {
            Thread.currentThread().interrupt();
            throw new UnavailableException("interrupted while asking the leader", e);
        } catch (IOException | RuntimeException e) {
            if (e instanceof UnavailableException u) {
                throw u;
            }
            throw new UnavailableException("no leader answered: " + why(e), e);
        }
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
        RaftGroup group =
                RaftSettings.raftAddressesOnly(server.getDivision(groupId).getGroup());
        if (client != null && group.equals(clientGroup)) {
            return client;
        }
        closeClient();
        RaftProperties properties = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(
                properties, TimeDuration.valueOf(timeoutMillis, TimeUnit.MILLISECONDS));
        client = RaftClient.newBuilder()
                .setRaftGroup(group)
                .setProperties(properties)
                .setParameters(parameters)
                // one try per member: a member that does not lead redirects to the one that does
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                        group.getPeers().size(), TimeDuration.valueOf(20, TimeUnit.MILLISECONDS)))
                .setClientRpc(RaftSettings.clientRpc(parameters, properties))
                .build();
        clientGroup = group;
        return client;
    }

    private void closeClient() {
        if (client != null) {
            try {
                client.close();
            } catch (IOException ignored) {
                // closing
            }
            client = null;
            clientGroup = null;
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        closeClient();
    }
}
