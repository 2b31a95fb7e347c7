package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.KeyValue;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Result;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How long keys live when their owner changes or they are deleted in bulk, over linearizable reads
 * (a read that began after an event returned sees its effect). Three rules:
 *
 * <ul>
 *   <li><b>Rejoined members.</b> After a REJOINED notice of a member's key returned, no read that
 *       began later shows the key owned by a session that process reported lost before it opened
 *       the session the rejoin ran under (a re-joined member keeping the dead session's key).
 *   <li><b>Present members.</b> After a JOINED or REJOINED notice of a member's key under session
 *       S returned, no read that began later and returned before that process's next new session
 *       shows the key absent if a put leased to S, invoked after the read returned, was answered OK
 *       (S was open through the read, and nobody else deletes or moves the key).
 *   <li><b>Ended leases.</b> After a put leasing a key to session S was refused as a conflict (S
 *       was no open session then, and sessions never open again), no read that began later shows a
 *       key owned by S.
 *   <li><b>Prefix deletes.</b> After a prefix delete returned, a key under the prefix whose every
 *       write invoked before the delete returned had an answer (not UNKNOWN) before the delete
 *       began is absent in every read that began after the delete returned and returned before the
 *       next write of it was invoked.
 * </ul>
 *
 * <p><b>Not checked</b>: a member's key after its process's next new session (a rejoin may be
 * moving it), nor a lease ended by a close the service
 * never heard (its session expires later, and no refused put tells when). <b>Failure story</b>: the
 * service keeps the lost session as the owner of a key the rejoin moved; a listing of {@code
 * group/} after the REJOINED notice shows the member owned by the lost session: a violation naming
 * both.
 */
final class LifetimeKeys {
    private final long origin;
    private final List<Operation> ops;
    private final List<Operation> reads = new ArrayList<>();
    private final List<Op> members = new ArrayList<>();
    private long rejoins;
    private long ended;
    private long deletes;
    private long checked;

    LifetimeKeys(List<Record> records, long origin) {
        this.origin = origin;
        this.ops = Operation.pair(records);
        for (Record r : records) {
            if (r instanceof Op op && op.type() == Op.Type.NOTICE && op.call() instanceof Call.Member) {
                members.add(op);
            }
        }
        for (Operation o : ops) {
            if ((o.call() instanceof Call.KeyGet || o.call() instanceof Call.KeyList)
                    && o.result() instanceof Result.KeyState) {
                reads.add(o);
            }
        }
    }

    Map<String, Long> counts() {
        return Map.of(
                "members rejoined", rejoins,
                "leases shown ended", ended,
                "prefix deletes", deletes,
                "lifetime reads checked", checked);
    }

    void check(List<String> violations) {
        List<String> found = new ArrayList<>();
        rejoined(found);
        present(found);
        KeysChecker.report("rejoined members", found, violations);
        found = new ArrayList<>();
        leases(found);
        KeysChecker.report("ended leases", found, violations);
        found = new ArrayList<>();
        prefixes(found);
        KeysChecker.report("prefix deletes", found, violations);
    }

    /**
     * For each JOINED or REJOINED notice of member M under session S: a read that began after it
     * and returned before the process's next new session (no later rejoin moved M yet) and shows M
     * absent, while a put leased to S invoked after the read returned was answered OK (S was open
     * then, so at the read too, and M, attached to S or moved on by nobody, was there).
     */
    private void present(List<String> found) {
        for (Op n : members) {
            Call.Member m = (Call.Member) n.call();
            if (!Call.Member.JOINED.equals(m.event()) && !Call.Member.REJOINED.equals(m.event())) {
                continue;
            }
            long next = nextSession(n);
            for (Operation o : reads) {
                KeyValue seen = seen(o, m.member());
                if (seen == null || o.start() <= n.time() || o.end() >= next) {
                    continue;
                }
                Operation alive = leasedOkAfter(m.session(), o.end());
                if (alive == null) {
                    continue;
                }
                checked++;
                if (seen.isAbsent()) {
                    found.add(m.member() + " went while its session lived: " + o.describe(origin)
                            + " saw it absent after "
                            + n.process() + "'s " + m.event() + " as " + m.session() + " at "
                            + Times.at(n.time(), origin) + ", and " + alive.describe(origin) + " showed "
                            + m.session() + " open after that");
                }
            }
        }
    }

    /** When {@code notice}'s process next reported a new session; MAX_VALUE if it never did. */
    private long nextSession(Op notice) {
        long next = Long.MAX_VALUE;
        for (Op n : members) {
            if (n.process().equals(notice.process())
                    && n.time() > notice.time()
                    && Call.Member.REESTABLISHED.equals(((Call.Member) n.call()).event())) {
                next = Math.min(next, n.time());
            }
        }
        return next;
    }

    /** A put leased to {@code session}, invoked after {@code after}, that was answered OK; or null. */
    private Operation leasedOkAfter(String session, long after) {
        for (Operation o : ops) {
            if (o.call() instanceof Call.KeyPut p
                    && session != null
                    && session.equals(p.lease())
                    && o.ok()
                    && o.start() > after) {
                return o;
            }
        }
        return null;
    }

    private void rejoined(List<String> found) {
        for (Op n : members) {
            Call.Member m = (Call.Member) n.call();
            if (!Call.Member.REJOINED.equals(m.event())) {
                continue;
            }
            rejoins++;
            Set<String> dead = lostBefore(n);
            for (Operation o : reads) {
                if (o.start() <= n.time()) {
                    continue;
                }
                KeyValue seen = seen(o, m.member());
                if (seen == null) {
                    continue;
                }
                checked++;
                if (!seen.isAbsent() && dead.contains(seen.owner())) {
                    found.add(m.member() + " kept its dead session: " + o.describe(origin) + " saw it owned by "
                            + seen.owner() + ", which " + n.process() + " reported lost before its rejoin as "
                            + m.session() + " at " + Times.at(n.time(), origin));
                }
            }
        }
    }

    /**
     * The sessions {@code rejoin}'s process reported lost before its last new session ahead of the
     * rejoin: the session the rejoin ran under may itself be lost between the rejoin's answer and
     * its notice, and then still owns the key.
     */
    private Set<String> lostBefore(Op rejoin) {
        long opened = Long.MIN_VALUE;
        for (Op n : members) {
            if (n.process().equals(rejoin.process())
                    && n.time() < rejoin.time()
                    && Call.Member.REESTABLISHED.equals(((Call.Member) n.call()).event())) {
                opened = Math.max(opened, n.time());
            }
        }
        Set<String> dead = new HashSet<>();
        for (Op n : members) {
            if (n.process().equals(rejoin.process())
                    && n.time() < opened
                    && Call.Member.LOST.equals(((Call.Member) n.call()).event())) {
                dead.add(n.session());
            }
        }
        return dead;
    }

    private void leases(List<String> found) {
        for (Operation refused : ops) {
            if (!(refused.call() instanceof Call.KeyPut p)
                    || p.lease() == null
                    || !(refused.result() instanceof Result.Refused r && r.is(Result.Refused.CONFLICT))) {
                continue;
            }
            ended++;
            for (Operation o : reads) {
                if (o.start() <= refused.end()) {
                    continue;
                }
                checked++;
                for (KeyValue e : ((Result.KeyState) o.result()).entries()) {
                    if (!e.isAbsent() && p.lease().equals(e.owner())) {
                        found.add(e.key() + " outlived its lease " + p.lease() + ": " + o.describe(origin)
                                + " saw it after " + refused.describe(origin) + " showed the session ended");
                    }
                }
            }
        }
    }

    private void prefixes(List<String> found) {
        for (Operation d : ops) {
            if (!(d.call() instanceof Call.KeyDeletePrefix dp) || !d.ok()) {
                continue;
            }
            deletes++;
            Set<String> keys = new HashSet<>();
            for (Operation w : ops) {
                written(w).stream().filter(k -> k.startsWith(dp.prefix())).forEach(keys::add);
            }
            for (String k : keys) {
                long next = Long.MAX_VALUE;
                boolean settled = true;
                for (Operation w : ops) {
                    if (!written(w).contains(k)) {
                        continue;
                    }
                    if (w.start() >= d.end()) {
                        next = Math.min(next, w.start());
                    } else if (w.unknown() || w.end() >= d.start()) {
                        settled = false; // it may land after the delete
                    }
                }
                if (!settled) {
                    continue;
                }
                for (Operation o : reads) {
                    KeyValue seen = seen(o, k);
                    if (seen == null || o.start() <= d.end() || o.end() >= next) {
                        continue;
                    }
                    checked++;
                    if (!seen.isAbsent()) {
                        found.add(k + " outlived its prefix's delete: " + o.describe(origin) + " saw it after "
                                + d.describe(origin) + " returned");
                    }
                }
            }
        }
    }

    /** The keys {@code o} writes: a put's, or a transaction's puts. */
    private static List<String> written(Operation o) {
        if (o.call() instanceof Call.KeyPut p) {
            return List.of(p.name());
        }
        if (o.call() instanceof Call.KeyTxn t) {
            return t.puts().stream().map(KeyValue::key).toList();
        }
        return List.of();
    }

    /**
     * How the read {@code o} saw {@code key} (absent when a listing of its prefix did not show it),
     * or null if it did not read it.
     */
    private static KeyValue seen(Operation o, String key) {
        List<KeyValue> entries = ((Result.KeyState) o.result()).entries();
        if (o.call() instanceof Call.KeyGet g) {
            return g.name().equals(key) && !entries.isEmpty() ? entries.get(0) : null;
        }
        if (o.call() instanceof Call.KeyList l && key.startsWith(l.prefix())) {
            return entries.stream().filter(e -> e.key().equals(key)).findFirst().orElse(KeyValue.absent(key));
        }
        return null;
    }
}
