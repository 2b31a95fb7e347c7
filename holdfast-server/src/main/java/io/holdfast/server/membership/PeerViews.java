package io.holdfast.server.membership;

import io.holdfast.Ticker;
import io.holdfast.internal.Causes;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.server.config.ServerConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the other members of a cluster say of it before this node's Raft server starts: each is
 * asked for its group information (Ratis's admin call on the Raft port) and answers with its
 * current members, its commit index and the commit index it last heard from this node ({@link
 * PeerView}), or gives no answer ({@link Silence}). {@link RejoinGuard} decides on the answers;
 * {@link DivisionWatch} asks the same question of a running node's peers.
 *
 * <p>Guarantees: every ask is bounded ({@link #TIMEOUT}, then {@link #RETRY_TIMEOUT} for a peer
 * asked again, {@link #PATIENCE} in all); a peer that does not answer never fails the caller, it is
 * a {@link Silence}. Not guaranteed: that a silent peer is down; a peer that is up but slow and
 * one that is not up are told apart only by whether a TCP connection to its Raft address opens.
 */
public final class PeerViews {
    private static final Logger LOG = LoggerFactory.getLogger(PeerViews.class);

    /** How long each peer may take to answer the first time it is asked. */
    static final Duration TIMEOUT = Duration.ofSeconds(2);

    /** How long a peer that is up but slow may take to answer when it is asked again. */
    static final Duration RETRY_TIMEOUT = Duration.ofSeconds(5);

    /**
     * How long a starting node keeps asking again the peers that are up but slow, while no peer has
     * told it the members: a new member of a running cluster must not take a slow cluster for one
     * being formed, nor a removed member with its data miss its removal.
     */
    public static final Duration PATIENCE = Duration.ofSeconds(30);

    /** The pause between two rounds of asking again. */
    private static final Duration PAUSE = Duration.ofMillis(500);

    private PeerViews() {}

    /**
     * What one peer said: its current members (voters and learners, old and new during a change),
     * its commit index, and the commit index it last heard from the node asking (-1: none).
     */
    public record PeerView(String id, Set<String> members, long committed, long heardFromSelf) {}

    /**
     * A peer that gave no answer: why, in a few words, and whether it may be up but slow (it timed
     * out or failed after connecting) rather than not up (nothing listens at its address, or its
     * name does not resolve yet, as a pod's before the pod exists).
     */
    record Silence(String reason, boolean slow) {
        static Silence of(Throwable failure) {
            for (Throwable c = failure; c != null; c = c.getCause() == c ? null : c.getCause()) {
                if (c instanceof java.net.ConnectException || c instanceof java.net.UnknownHostException) {
                    return new Silence(Causes.rootMessage(failure), false);
                }
            }
            return new Silence(Causes.rootMessage(failure), true);
        }

        @Override
        public String toString() {
            return reason;
        }
    }

    /**
     * Asks every other member, then asks again those that are up but slow, for up to {@link
     * #PATIENCE}, while no answer reports the members. A peer that is not up (nothing listens at its
     * address) is not waited for: the members of a cluster being formed open their Raft ports only
     * after this check, so waiting for them would hold every first start of a cluster.
     *
     * <p>Without the second round, a new member of a running cluster whose peers answered late (a
     * cold TLS handshake on a starved machine: growth from three pods to five did this twice) takes
     * the cluster for one being formed, starts with every member, stands for election, and Ratis
     * closes its division for good; and a member removed while it was stopped, restarted with its
     * data, is not told of its removal.
     *
     * @param hasData whether this node starts with its data (only the log line says so)
     */
    static Map<String, Object> askPatiently(
            ServerConfig config, RaftGroup group, Parameters parameters, boolean hasData, Ticker ticker) {
        RaftPeerId self = RaftPeerId.valueOf(config.nodeId());
        List<RaftPeer> others = new ArrayList<>();
        for (RaftPeer peer : group.getPeers()) {
            if (!peer.getId().equals(self)) {
                others.add(peer);
            }
        }
        Map<String, Object> answers = askAll(self, others, group, parameters, TIMEOUT, ticker);
        long deadline = ticker.nanos() + PATIENCE.toNanos();
        while (true) {
            List<RaftPeer> slow = slowWithoutMembers(others, answers);
            if (slow.isEmpty() || ticker.nanos() - deadline >= 0) {
                return answers;
            }
            LOG.info(
                    "Node {} {} and no peer has told it the members ({}): asking {} again, for up to {} s",
                    config.nodeId(),
                    hasData ? "starts with its data (is it still a member?)" : "has no data yet",
                    answers,
                    slow.stream().map(p -> p.getId().toString()).toList(),
                    PATIENCE.toSeconds());
            try {
                Thread.sleep(PAUSE.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return answers;
            }
            answers.putAll(askAll(self, slow, group, parameters, RETRY_TIMEOUT, ticker));
        }
    }

    /** The peers to ask again: those that may be up but slow, unless some answer reports the members. */
    static List<RaftPeer> slowWithoutMembers(List<RaftPeer> peers, Map<String, Object> answers) {
        List<RaftPeer> slow = new ArrayList<>();
        for (RaftPeer peer : peers) {
            Object answer = answers.get(peer.getId().toString());
            if (answer instanceof PeerView view
                    && view.members() != null
                    && !view.members().isEmpty()) {
                return List.of();
            }
            if (answer instanceof Silence silence && silence.slow()) {
                slow.add(peer);
            }
        }
        return slow;
    }

    /**
     * Asks {@code peers} at once; each answer is a {@link PeerView} or a {@link Silence}. Takes at
     * most about {@code timeout}.
     */
    static Map<String, Object> askAll(
            RaftPeerId self,
            List<RaftPeer> peers,
            RaftGroup group,
            Parameters parameters,
            Duration timeout,
            Ticker ticker) {
        return askAll(peers, timeout, ticker, peer -> ask(peer, self, group, parameters, timeout));
    }

    /** One peer's question (tests give their own, to stand for a client slow to build). */
    interface Asker {
        PeerView ask(RaftPeer peer) throws IOException;
    }

    /**
     * Asks {@code peers} at once with {@code asker}, unless nothing listens at a peer's address
     * ({@link #notListening}): that peer is a {@link Silence} not up, whatever the asker would take.
     */
    static Map<String, Object> askAll(List<RaftPeer> peers, Duration timeout, Ticker ticker, Asker asker) {
        Map<String, CompletableFuture<Object>> asked = new LinkedHashMap<>();
        ExecutorService pool = Executors.newCachedThreadPool(DaemonThreads.named("holdfast-rejoin-guard"));
        try {
            for (RaftPeer peer : peers) {
                asked.put(
                        peer.getId().toString(),
                        CompletableFuture.supplyAsync(
                                () -> {
                                    Optional<String> closed = notListening(peer, timeout);
                                    if (closed.isPresent()) {
                                        return new Silence(closed.get(), false);
                                    }
                                    try {
                                        return asker.ask(peer);
                                    } catch (IOException e) {
                                        throw new java.io.UncheckedIOException(e);
                                    }
                                },
                                pool));
            }
            long deadline = ticker.nanos() + timeout.plusSeconds(1).toNanos();
            Map<String, Object> answers = new LinkedHashMap<>();
            for (Map.Entry<String, CompletableFuture<Object>> e : asked.entrySet()) {
                try {
                    answers.put(
                            e.getKey(), e.getValue().get(Math.max(0, deadline - ticker.nanos()), TimeUnit.NANOSECONDS));
                } catch (TimeoutException ex) {
                    answers.put(e.getKey(), new Silence("no answer in time", true));
                } catch (ExecutionException | RuntimeException ex) {
                    answers.put(e.getKey(), Silence.of(ex));
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    answers.put(e.getKey(), new Silence("interrupted", false));
                }
            }
            return answers;
        } finally {
            pool.shutdownNow();
        }
    }

    /** The commit index {@code peer} last heard from {@code self}, if it heard any. */
    public static Optional<Long> commitIndexKnownBy(
            RaftPeer peer, RaftPeerId self, RaftGroup group, Parameters parameters) throws IOException {
        long heard = ask(peer, self, group, parameters, TIMEOUT).heardFromSelf();
        return heard < 0 ? Optional.empty() : Optional.of(heard);
    }

    /** What {@code peer} says of the group and of {@code self}. */
    static PeerView ask(RaftPeer peer, RaftPeerId self, RaftGroup group, Parameters parameters, Duration timeout)
            throws IOException {
        GroupInfoReply info = groupInfo(peer, group, parameters, timeout);
        long heard = -1;
        for (CommitInfoProto c : info.getCommitInfos()) {
            if (RaftPeerId.valueOf(c.getServer().getId()).equals(self)) {
                heard = c.getCommitIndex();
            }
        }
        Set<String> members = info.getConf()
                .map(conf -> {
                    Set<String> ids = new HashSet<>();
                    for (List<RaftPeerProto> list : List.of(
                            conf.getPeersList(),
                            conf.getOldPeersList(),
                            conf.getListenersList(),
                            conf.getOldListenersList())) {
                        list.forEach(p -> ids.add(p.getId().toStringUtf8()));
                    }
                    return ids;
                })
                .orElse(null);
        long committed = info.getLogInfoProto() == null
                ? -1
                : info.getLogInfoProto().getCommitted().getIndex();
        return new PeerView(peer.getId().toString(), members, committed, heard);
    }

    /**
     * {@code peer}'s group information (Ratis's admin call on its Raft port, answered whether or not
     * a leader exists): its newest configuration, its role and leader, its commit indexes.
     */
    static GroupInfoReply groupInfo(RaftPeer peer, RaftGroup group, Parameters parameters, Duration timeout)
            throws IOException {
        return OneShotClient.call(
                OneShotClient.builder(group, parameters, timeout, RetryPolicies.noRetry())
                        .setClientId(ClientId.randomId()),
                client -> client.getGroupManagementApi(peer.getId()).info(group.getGroupId()));
    }

    /**
     * Why nothing can answer at {@code peer}'s Raft address (a connection refused, a name that does
     * not resolve), or empty when a TCP connection opened there, or did not fail within {@code
     * timeout}: a peer that may be up. A plain socket, not a Ratis client: a starting JVM on a
     * starved machine took more than the first ask's seconds to build its first client, and counted
     * peers whose ports were closed as slow (a local rehearsal of CI's load, 2026-12-04: two rounds
     * of "no answer in time", 7 s, before "Connection refused").
     */
    static Optional<String> notListening(RaftPeer peer, Duration timeout) {
        java.net.InetSocketAddress address;
        try {
            address = org.apache.ratis.util.NetUtils.createSocketAddr(peer.getAddress());
        } catch (RuntimeException e) {
            return Optional.of("its address " + peer.getAddress() + " is not usable: " + Causes.rootMessage(e));
        }
        if (address.isUnresolved()) {
            return Optional.of("its name " + address.getHostString() + " does not resolve");
        }
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(address, (int) Math.max(1, timeout.toMillis()));
            return Optional.empty();
        } catch (java.net.ConnectException e) {
            return Optional.of("nothing listens at " + peer.getAddress() + " (" + e.getMessage() + ")");
        } catch (IOException e) {
            return Optional.empty(); // timed out, or another failure: it may be up
        }
    }
}
