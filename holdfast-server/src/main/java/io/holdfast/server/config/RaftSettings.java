package io.holdfast.server.config;

import io.holdfast.internal.DaemonThreads;
import io.holdfast.protocol.TlsFiles;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.ClientFactory;
import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * How every node runs Ratis: its properties (the transport, storage, the Raft port, reads, the log,
 * elections, snapshots) and its parameters (the transport and, with TLS on, the TLS of its Raft
 * port). Each setting that departs from Ratis's default says why beside it.
 *
 * <p>What each transport is given. gRPC: the TLS below; its message size limit (64 MiB) and flow
 * control window (1 MiB) are Ratis's defaults. Netty ({@link RaftTransport#NETTY}): no TLS and no
 * message size limit exist for it in Ratis 3.3.0; its leader sends one append at a time to each
 * follower ({@code LogAppenderDefault}) and, after a failed send, tries again after
 * {@code raft.server.rpc.sleep.time} (set to 200 ms below) instead of by the retry policy, which
 * only gRPC's appender reads. Everything else here applies to both.
 */
public final class RaftSettings {
    /** The Raft group every Holdfast cluster uses; one cluster per set of data directories. */
    public static final RaftGroupId GROUP_ID = RaftGroupId.valueOf(
            java.util.UUID.nameUUIDFromBytes("holdfast".getBytes(java.nio.charset.StandardCharsets.UTF_8)));

    private static final String TRANSPORT = "holdfast.raft.transport";

    /**
     * How the Raft peers of a rehearsal ({@link #rehearsalProperties}) are named, followed by a number:
     * what Ratis logs about them names them so, and the server's logging leaves those lines out.
     */
    public static final String REHEARSAL_PEER_PREFIX = "holdfast-rehearsal-";

    /**
     * The shortest wait before a deposed leader campaigns again, which Ratis also takes as the
     * longest JVM pause after which a leader steps down: see {@link #properties}.
     */
    static final java.time.Duration PAUSE_STEP_DOWN_FLOOR = java.time.Duration.ofSeconds(5);

    private RaftSettings() {}

    /**
     * The node's transport, and with TLS on (gRPC only), every connection of the Raft port (peers,
     * and Ratis's own client and admin services on the same port) is mutually authenticated TLS
     * against the node's CA: a process without a certificate from that CA can neither join nor
     * append to the log.
     */
    public static Parameters parameters(ServerConfig config) {
        Parameters parameters = new Parameters();
        parameters.put(TRANSPORT, config.raftTransport(), RaftTransport.class);
        TlsFiles tls = config.tls();
        if (tls != null) {
            GrpcTlsConfig peers = new GrpcTlsConfig(
                    tls.privateKey().toFile(),
                    tls.certificate().toFile(),
                    tls.trustedCa().toFile(),
                    true);
            GrpcConfigKeys.Server.setTlsConf(parameters, peers);
            GrpcConfigKeys.Admin.setTlsConf(parameters, peers);
            GrpcConfigKeys.Client.setTlsConf(parameters, peers);
        }
        return parameters;
    }

    /**
     * The Raft server's parameters: {@link #parameters(ServerConfig)}, and the node's {@code wakeups},
     * which its gRPC transport registers the leader's log appenders with.
     */
    public static Parameters serverParameters(ServerConfig config, CommitWakeups wakeups) {
        Parameters parameters = parameters(config);
        parameters.put(CommitWakeups.KEY, wakeups, CommitWakeups.class);
        return parameters;
    }

    /**
     * The settings of a throwaway Raft group on loopback that rehearses the leader's paths in this
     * JVM ({@code LeaderRehearsal}): {@link #properties} for {@code config}, so that the same
     * transport, appenders and log code run, but on 127.0.0.1:{@code port} with its storage in
     * {@code dir}: its log segmented and forced to disk as the node's is (the segmented log's code is
     * what a leader runs), and no snapshots.
     */
    public static RaftProperties rehearsalProperties(ServerConfig config, Path dir, int port) {
        RaftProperties p = properties(config, dir);
        if (config.raftTransport() == RaftTransport.NETTY) {
            NettyConfigKeys.Server.setHost(p, "127.0.0.1");
            NettyConfigKeys.Server.setPort(p, port);
        } else {
            GrpcConfigKeys.Server.setHost(p, "127.0.0.1");
            GrpcConfigKeys.Server.setPort(p, port);
        }
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, false);
        return p;
    }

    /**
     * The parameters of a rehearsal's Raft server ({@link #rehearsalProperties}): the node's
     * transport without TLS (the rehearsal talks to itself on loopback) and the rehearsal's own
     * {@code wakeups}.
     */
    public static Parameters rehearsalParameters(ServerConfig config, CommitWakeups wakeups) {
        Parameters parameters = new Parameters();
        parameters.put(TRANSPORT, config.raftTransport(), RaftTransport.class);
        parameters.put(CommitWakeups.KEY, wakeups, CommitWakeups.class);
        return parameters;
    }

    /** Where the clients' connection resets run ({@link ResetsApart}): a daemon thread each. */
    private static final Executor CLIENT_RESETS = DaemonThreads.threadPerTask("holdfast-raft-client-reset");

    /**
     * A client RPC to the members' Raft ports over the transport that {@code parameters} (from
     * {@link #parameters}) name, with their TLS; gRPC for parameters that name none. Its
     * connection resets run apart from the replies that ask for them ({@link ResetsApart}).
     */
    public static RaftClientRpc clientRpc(Parameters parameters, RaftProperties clientProperties) {
        return new ResetsApart(ratisClientRpc(parameters, clientProperties), CLIENT_RESETS);
    }

    /** {@link #clientRpc} as Ratis makes it, resets in place (tests show what that costs). */
    static RaftClientRpc ratisClientRpc(Parameters parameters, RaftProperties clientProperties) {
        RaftTransport transport = parameters.get(TRANSPORT, RaftTransport.class);
        ClientFactory factory = ClientFactory.cast(
                (transport == null ? RaftTransport.GRPC : transport).rpcType().newFactory(parameters));
        return factory.newRaftClientRpc(ClientId.randomId(), clientProperties);
    }

    /**
     * {@code group} with each member's Raft address only, for a Ratis client of the group: a
     * member's client address in the configuration is Holdfast's own client port, which Ratis's
     * client would otherwise use.
     */
    public static org.apache.ratis.protocol.RaftGroup raftAddressesOnly(org.apache.ratis.protocol.RaftGroup group) {
        return org.apache.ratis.protocol.RaftGroup.valueOf(
                group.getGroupId(),
                group.getPeers().stream()
                        .map(p -> org.apache.ratis.protocol.RaftPeer.newBuilder()
                                .setId(p.getId())
                                .setAddress(p.getAddress())
                                .build())
                        .toList());
    }

    /**
     * The Ratis settings every node runs with, for the configuration {@code config} and the Raft
     * directory {@code raftDir}.
     */
    public static RaftProperties properties(ServerConfig config, Path raftDir) {
        RaftProperties p = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(p, List.of(raftDir.toFile()));
        RaftServerConfigKeys.setStorageFreeSpaceMin(p, SizeInBytes.valueOf("16MB"));
        // gRPC's leader wakes its appenders when its commit index moves (CommitWakeups says why).
        RaftConfigKeys.Rpc.setType(
                p,
                config.raftTransport() == RaftTransport.GRPC
                        ? new WakingGrpc()
                        : config.raftTransport().rpcType());
        if (config.raftTransport() == RaftTransport.NETTY) {
            NettyConfigKeys.Server.setHost(p, config.bindHost());
            NettyConfigKeys.Server.setPort(p, config.self().raftPort());
            // Netty's appender waits this long after each failed send, whatever the retry policy
            // below says (Ratis's default, 25 ms, tries a member that is down 40 times a second,
            // with a warning for each refused connection): the same 200 ms as gRPC's retries.
            RaftServerConfigKeys.Rpc.setSleepTime(p, TimeDuration.valueOf(200, TimeUnit.MILLISECONDS));
        } else {
            GrpcConfigKeys.Server.setHost(p, config.bindHost());
            GrpcConfigKeys.Server.setPort(p, config.self().raftPort());
        }
        // Correctness settings (see VERIFICATION.md): linearizable reads, durable appends, loud corruption.
        RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, !config.fsync());
        RaftServerConfigKeys.Log.setAsyncFlushEnabled(p, false);
        RaftServerConfigKeys.Log.setCorruptionPolicy(p, RaftServerConfigKeys.Log.CorruptionPolicy.EXCEPTION);
        // A follower writes appends one after the other, never "composed". Ratis 3.3.0's compose
        // path (on by default) remembers the appends still being written by their first index
        // only, and drops an append whose first index is pending as a duplicate whatever its
        // term: the new leader's entries are acknowledged but the old leader's stay in the log,
        // and are applied once committed. Replicas diverge (holdfast verify's one-way scenario
        // caught it; FollowerAppendTest fails with it on).
        RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
        // No METADATAENTRY after every commit. By default the leader appends one log entry that
        // records the new commit index each time the commit index moves, and replicates it like any
        // other entry: every command then cost two log entries, two fsyncs on every member and two
        // replication rounds (measured: 4.00 entries per acquire+release pair with it, 2.00 without,
        // and twice the log syncs, on one node and on three). The next command's write queues
        // behind that extra fsync on the leader and on each follower. Raft does not need the commit
        // index on disk: after a restart it is learnt again from the leader (or, alone, from the
        // first entry of the new term), and every acknowledged command is already in the log
        // of a majority and fsynced, so durability is unchanged.
        RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
        // No pause between two appendEntries to a follower. Ratis's default (1 ms) makes the log
        // appender sleep until 1 ms has passed since its last send: the append that carries the
        // commit index of one command, sent right after the majority answered, then waits, and the
        // next command's entries wait behind it. For one client that is up to a millisecond per
        // write on a cluster; batching comes from the appender being busy, not from sleeping.
        // Apache Ozone's SCM sets the same (ozone.scm.ha.raft.server.log.appender.wait-time.min).
        RaftServerConfigKeys.Log.Appender.setWaitTimeMin(p, TimeDuration.ZERO);
        // The leader's appender to a follower waits between failures by this policy (each wait
        // random in half to one and a half times its stage's), and an INCONSISTENCY reply, the
        // first answer of a follower that fell behind, is a failure too. Ratis's default, "1ms,10,
        // 1s,20, 5s,1000", waits 5 s from the 31st failure in a row (a follower down for 15 s, or
        // cut off for a few: each request that times out counts): a healed follower then waited out
        // the wait under way and one more after its first answer, and stayed 7 to 13 s behind
        // (holdfast verify's ring and partition scenarios, and HealCatchUpTest, measured it). Here
        // no wait is longer than 300 ms (200 on average) for as long as the failures last, so a
        // healed follower is tried again within 300 ms. The cost: the leader tries a dead follower
        // (a refused connect, a log line batched every 5 s) several times a second instead of
        // every 5 s, until it is back or removed.
        RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, "1ms,10, 200ms," + Integer.MAX_VALUE);
        long min = config.electionTimeoutMin().toMillis();
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(min, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(min * 2, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(p, TimeDuration.valueOf(min / 2, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(p, TimeDuration.valueOf(min, TimeUnit.MILLISECONDS));
        // A leader that Ratis deposes for want of its followers' answers (LOST_MAJORITY_HEARTBEATS)
        // may campaign again after the longest election timeout, not Ratis's default 10 s. If its
        // log is the longest of the members that are up (it appended its term's first entry, which
        // nobody received yet), it is the only one that can win: the others' votes are refused by
        // it, and for those 10 s nobody leads. Measured with 100,000 sessions (docs/benchmarks.md,
        // 2026-11-30): the new leader n2 stood still 3.3 s in a full collection just after its
        // election, Ratis deposed it 1.5 s after it ran again, n3's pre-votes were refused for
        // 11.7 s ("Skipping leader election since it stepped down recently (... waitTime = 10s)"),
        // and every session was lost. The wait only spaces elections; pre-vote (on, Ratis's
        // default) is what keeps a cut-off node from disturbing a majority that has a leader.
        // Ratis also steps a leader down after a JVM pause longer than this wait (JvmPauseMonitor's
        // step-down threshold), one node alone too, which then answers NOT_LEADER until it is
        // elected again: at the longest election timeout itself (0.6 s in the tests) a loaded
        // machine's 0.96 s pause did so in a one-node cluster (CI rehearsal of 2026-12-01). So the
        // wait is never under PAUSE_STEP_DOWN_FLOOR: a pause shorter than that costs the leader its
        // lease at most (LeaderLease, LostMajority), not its leadership.
        RaftServerConfigKeys.LeaderElection.setLeaderStepDownWaitTime(
                p, TimeDuration.valueOf(Math.max(min * 2, PAUSE_STEP_DOWN_FLOOR.toMillis()), TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        // holdfast.raft.snapshotEvery (entries, default 20,000) is for verification only: its
        // snapshot-catch-up scenario needs a leader that snapshots and purges its log after a few
        // hundred entries, so that a follower that was down must be sent a snapshot.
        long snapshotEvery = Long.getLong("holdfast.raft.snapshotEvery", 20_000);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, snapshotEvery);
        if (snapshotEvery < 20_000) {
            RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf("8KB"));
            RaftServerConfigKeys.Log.setPurgeGap(p, 1);
        }
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
        // A purge keeps the last half snapshot-interval of the log (10,000 entries by default), so
        // that a follower a little behind (restarted, briefly cut off) is caught up from the log,
        // not sent a snapshot. Besides being cheaper, this keeps clear of a Ratis 3.3.0 hazard: a
        // snapshot installed on a follower whose log already runs past it (the leader's appender
        // stepped its next index for that follower back below the leader's purged start, from an
        // INCONSISTENCY reply, while the follower held the entries) resets the follower's log writer
        // to the snapshot's index and leaves the entries after it in the log's cache; the next
        // append then fails the writer ("lastWrittenIndex == 431, entry == ... index: 460"), Ratis
        // closes the Raft division and the node halts (DivisionWatch). A soak round (multi-lock,
        // seed 4062691927) lost its quorum to it when the leader was killed next.
        RaftServerConfigKeys.Log.setPurgePreservationLogNum(p, Math.max(1, snapshotEvery / 2));
        return p;
    }
}
