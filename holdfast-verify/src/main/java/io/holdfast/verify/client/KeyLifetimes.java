package io.holdfast.verify.client;

import io.holdfast.GroupMembership;
import io.holdfast.KeyEntry;
import io.holdfast.LockClient;
import io.holdfast.SessionListener;
import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Result;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keys workload's steps about how long keys live (phase {@value Workload#PHASE}): a group
 * member joined again after its session was lost, keys deleted by prefix, and keys leased to
 * another client's session.
 *
 * <ul>
 *   <li><b>Group.</b> A client of its own that opens a new session after losing one joins {@value
 *       #GROUP} as the member named after the process, through the real recipe ({@link
 *       LockClient#group}); its joins, its session's losses (the old id) and the recipe's rejoins
 *       are recorded ({@link Call.Member}), and its new sessions. A step (and the three after a
 *       rejoin) reads the process's own member key or lists the group, with the owners, then puts
 *       {@code alive/<process>} leased to the group client's session: answered OK only while that
 *       session is open.
 *   <li><b>Prefix.</b> One to three keys put under {@code tmp/<process>/}, one read, the prefix
 *       deleted, a read of the prefix again.
 *   <li><b>Lease.</b> A client of its own (the lease, a session) and one to three keys {@code
 *       lease/<process>/<i>} put by the process's client owned by that session, a read, the lease
 *       client closed, a put that names the lease again (refused once the session has ended: the
 *       record that it has), and a read.
 * </ul>
 *
 * <p><b>Guarantees</b> as {@link KeysWorkload}'s: every invoke gets one completion unless the
 * process dies; a failure is recorded and the workload goes on. <b>Not</b>: that the group client
 * ever joins (a join refused for a name another session holds, after a restart of the process, is
 * logged and tried again at the next group step). <b>Failure story</b>: the process is split from
 * the cluster past its TTL; its group client reports the session lost, opens another when the split
 * heals, and the recipe moves the member's key, still held by the lost session, to the new one:
 * LOST, then REJOINED with the new owner; a service that kept the old owner shows in the reads.
 */
final class KeyLifetimes {
    /** The group every process joins. */
    static final String GROUP = "group";

    /** The prefix of the prefix-deleted keys, one below it per process. */
    static final String TMP = "tmp/";

    /** The prefix of the keys leased to the group clients' sessions, one per process. */
    static final String ALIVE = "alive/";

    /** The prefix of the leased keys, one below it per process. */
    static final String LEASED = "lease/";

    private static final Logger LOG = LoggerFactory.getLogger(KeyLifetimes.class);

    private final KeyOps keys;
    private final String process;
    private final Supplier<LockClient> renewing;
    private final Supplier<LockClient> opener;
    private final Random random;
    /** Reads of the group still owed after a rejoin: the next steps read it at once. */
    private final AtomicInteger owed = new AtomicInteger();

    private LockClient groupClient;
    private GroupMembership members;
    private boolean joined;

    /**
     * @param renewing opens a client that opens a new session after losing one (the group's)
     * @param opener opens a client of a session of its own (a lease)
     */
    KeyLifetimes(
            KeyOps keys, String process, Supplier<LockClient> renewing, Supplier<LockClient> opener, Random random) {
        this.keys = keys;
        this.process = process;
        this.renewing = renewing;
        this.opener = opener;
        this.random = random;
    }

    /** The process's member key. */
    String member() {
        return GROUP + "/" + process;
    }

    /** Whether the group client has joined. */
    boolean joined() {
        return joined;
    }

    /** Whether a rejoin came since the last steps and the group is to be read now. */
    boolean owesRead() {
        return owed.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
    }

    /** Joins the group if not yet joined, then reads the member key or the group; true after an UNKNOWN. */
    boolean group(LockClient c) {
        if (!joined) {
            join();
        }
        Result r = random.nextBoolean() ? keys.get(Workload.PHASE, c, member()) : keys.list(Workload.PHASE, c, GROUP);
        if (joined) {
            // answered OK only while the group client's session is open: the checker's proof it lived
            keys.put(Workload.PHASE, c, ALIVE + process, 0, groupClient.sessionId());
        }
        return r instanceof Result.Unknown;
    }

    private void join() {
        try {
            if (groupClient == null) {
                groupClient = renewing.get();
                groupClient.addSessionListener(new SessionListener() {
                    @Override
                    public void lost(String oldId, String cause) {
                        keys.member(Workload.PHASE, Call.Member.LOST, null, oldId, 0);
                    }

                    @Override
                    public void reestablished(String newId) {
                        keys.member(Workload.PHASE, Call.Member.REESTABLISHED, null, newId, 0);
                    }
                });
            }
            if (members == null) {
                members = groupClient.group(GROUP);
                members.addRejoinListener(listener());
            }
            KeyEntry e = members.join(process, Ops.encode(1));
            keys.member(Workload.PHASE, Call.Member.JOINED, e.key(), e.owner(), e.version());
            joined = true;
        } catch (RuntimeException e) {
            LOG.info("{} cannot join {} yet", process, GROUP, e);
        }
    }

    private GroupMembership.RejoinListener listener() {
        return new GroupMembership.RejoinListener() {
            @Override
            public void rejoined(String member, KeyEntry entry) {
                keys.member(Workload.PHASE, Call.Member.REJOINED, entry.key(), entry.owner(), entry.version());
            }

            @Override
            public void rejoinFailed(String member, String holder) {
                keys.member(Workload.PHASE, Call.Member.REJOIN_FAILED, GROUP + "/" + member, holder, 0);
            }
        };
    }

    /** Puts a few keys under the process's own prefix, deletes the prefix, reads; true after an UNKNOWN. */
    boolean prefix(LockClient c) {
        String prefix = TMP + process + "/";
        boolean unknown = false;
        int n = 1 + random.nextInt(3);
        for (int i = 0; i < n; i++) {
            unknown |= keys.put(Workload.PHASE, c, prefix + i, random.nextInt(1000), null) instanceof Result.Unknown;
        }
        keys.get(Workload.PHASE, c, prefix + random.nextInt(n));
        unknown |= keys.deletePrefix(Workload.PHASE, c, prefix) instanceof Result.Unknown;
        Result r = random.nextBoolean()
                ? keys.list(Workload.PHASE, c, prefix)
                : keys.get(Workload.PHASE, c, prefix + random.nextInt(n));
        return unknown || r instanceof Result.Unknown;
    }

    /** Leases a few keys to a session of its own, closes it, reads; true after an UNKNOWN. */
    boolean lease(LockClient c) {
        LockClient s;
        try {
            s = opener.get();
        } catch (RuntimeException e) {
            LOG.debug("cannot open a lease", e);
            return true;
        }
        String prefix = LEASED + process + "/";
        String session = s.sessionId();
        boolean unknown = false;
        try {
            int n = 1 + random.nextInt(3);
            for (int i = 0; i < n; i++) {
                unknown |= keys.put(Workload.PHASE, c, prefix + i, random.nextInt(1000), session)
                        instanceof Result.Unknown;
            }
            keys.list(Workload.PHASE, c, prefix);
        } finally {
            keys.close(Workload.PHASE, s, session);
        }
        // refused only when the lease is no open session: the checker's proof that it ended
        keys.put(Workload.PHASE, c, prefix + "probe", 0, session);
        Result r = keys.list(Workload.PHASE, c, prefix);
        return unknown || r instanceof Result.Unknown;
    }

    /** Closes the group client: its session ends, and its member key with it. */
    void close() {
        if (groupClient != null) {
            keys.close(Workload.PHASE, groupClient, groupClient.sessionId());
        }
    }
}
