package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Expectation;
import io.holdfast.verify.history.KeyValue;
import io.holdfast.verify.history.Meta;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Result;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What keys must show besides linearizability ({@link KeysModel}): money is neither made nor lost,
 * a fenced transaction runs only under a current grant, a session's keys go exactly when its
 * locks do ({@link SessionKeys}), and keys moved, leased or deleted by prefix live as long as they
 * should ({@link LifetimeKeys}).
 *
 * <ul>
 *   <li><b>Conservation.</b> The accounts are the keys under {@value #ACCOUNTS} that transactions
 *       write. Every answer that reads all of them at one point (a listing, or a transaction's gets)
 *       must see all present with one sum: the sum the transaction that created them wrote, else the
 *       first such read's. Some present and some absent is a creation seen half done.
 *   <li><b>Fences.</b> A transaction that succeeded with a fence on lock L with token T must not
 *       have begun after a grant of L with a higher token returned, or after the release of T
 *       returned: by then T was no longer the lock's grant.
 *   <li><b>Session keys.</b> See {@link SessionKeys}.
 *   <li><b>Rejoined members, ended leases, prefix deletes.</b> See {@link LifetimeKeys}.
 * </ul>
 *
 * SKIPPED for a run without key operations. In a run that expects {@link
 * Expectation#KEYS_EXERCISED}, no fenced transfer that ran, no read of both accounts, or no read of
 * a session's key after its put is INCONCLUSIVE: what the scenario proves went untested.
 */
public final class KeysChecker implements Checker {
    /** The prefix of the accounts whose sum transfers keep. */
    public static final String ACCOUNTS = "acct/";

    /** How many violations of one rule a report lists at most. */
    static final int SHOWN = 10;

    @Override
    public String name() {
        return "keys";
    }

    @Override
    public CheckResult check(List<Record> records) {
        long origin = Times.origin(records);
        List<Operation> ops = Operation.pair(records).stream()
                .filter(o -> o.call() instanceof Call.OnKeys)
                .toList();
        boolean expected = Meta.expectations(records).contains(Expectation.KEYS_EXERCISED);
        if (ops.isEmpty() && !expected) {
            return new CheckResult(name(), CheckResult.Status.SKIPPED, List.of(), Map.of(), "no operations on keys");
        }
        List<String> violations = new ArrayList<>();
        long sums = conservation(ops, origin, violations);
        long fenced = fences(ops, Operation.pair(records), origin, violations);
        SessionKeys sessions = new SessionKeys(records, origin);
        sessions.check(violations);
        LifetimeKeys lifetimes = new LifetimeKeys(records, origin);
        lifetimes.check(violations);
        Map<String, Long> counts = new TreeMap<>();
        counts.put("key operations", (long) ops.size());
        counts.put("sums read", sums);
        counts.put("fenced transactions", fenced);
        counts.putAll(sessions.counts());
        counts.putAll(lifetimes.counts());
        if (!violations.isEmpty()) {
            return new CheckResult(name(), CheckResult.Status.FAIL, violations, counts, "");
        }
        List<String> untested = new ArrayList<>();
        if (fenced == 0) {
            untested.add("no fenced transfer ran");
        }
        if (sums == 0) {
            untested.add("no read of both accounts");
        }
        if (counts.get("session key reads") == 0) {
            untested.add("no session's key was read after its put");
        }
        if (expected && !untested.isEmpty()) {
            return new CheckResult(
                    name(), CheckResult.Status.INCONCLUSIVE, List.of(), counts, String.join("; ", untested));
        }
        return new CheckResult(name(), CheckResult.Status.PASS, List.of(), counts, String.join("; ", untested));
    }

    /** Checks the sums; returns how many reads of every account there were. */
    private static long conservation(List<Operation> ops, long origin, List<String> violations) {
        Set<String> accounts = new LinkedHashSet<>();
        Long created = null;
        for (Operation o : ops) {
            if (o.call() instanceof Call.KeyTxn t) {
                t.puts().stream()
                        .map(KeyValue::key)
                        .filter(k -> k.startsWith(ACCOUNTS))
                        .forEach(accounts::add);
                if (created == null
                        && o.result() instanceof Result.Transacted done
                        && done.succeeded()
                        && !t.compares().isEmpty()
                        && t.compares().stream().allMatch(KeyValue::isAbsent)) {
                    created = t.puts().stream().mapToLong(KeyValue::value).sum();
                }
            }
        }
        if (accounts.isEmpty()) {
            return 0;
        }
        long count = 0;
        Long expected = created;
        List<String> found = new ArrayList<>();
        for (Operation o : ops) {
            Map<String, KeyValue> seen = accountsRead(o, accounts);
            if (seen == null) {
                continue;
            }
            count++;
            long present = seen.values().stream().filter(v -> !v.isAbsent()).count();
            if (present == 0) {
                continue;
            }
            long sum = seen.values().stream().mapToLong(KeyValue::value).sum();
            if (present < accounts.size()) {
                found.add("accounts seen half created (" + seen.values() + "): " + o.describe(origin));
            } else if (expected == null) {
                expected = sum;
            } else if (sum != expected) {
                found.add("the accounts sum to " + sum + ", not " + expected + " (" + seen.values() + "): "
                        + o.describe(origin));
            }
        }
        report("conservation", found, violations);
        return count;
    }

    /** The accounts {@code o} read at one point, if it read every one of them; else null. */
    private static Map<String, KeyValue> accountsRead(Operation o, Set<String> accounts) {
        List<KeyValue> entries;
        if (o.result() instanceof Result.KeyState k && o.call() instanceof Call.KeyList) {
            entries = k.entries();
        } else if (o.result() instanceof Result.Transacted t && o.call() instanceof Call.KeyTxn txn) {
            int puts = t.succeeded() ? txn.puts().size() : 0;
            entries = t.entries()
                    .subList(Math.min(puts, t.entries().size()), t.entries().size());
        } else {
            return null;
        }
        Map<String, KeyValue> seen = new TreeMap<>();
        for (String a : accounts) {
            seen.put(a, KeyValue.absent(a));
        }
        boolean listing = o.call() instanceof Call.KeyList l && ACCOUNTS.startsWith(l.prefix());
        Set<String> read = new LinkedHashSet<>();
        for (KeyValue e : entries) {
            if (accounts.contains(e.key())) {
                seen.put(e.key(), e);
                read.add(e.key());
            }
        }
        return listing || read.containsAll(accounts) ? seen : null;
    }

    /** Checks every fenced transaction that succeeded; returns how many there were. */
    private static long fences(List<Operation> keyOps, List<Operation> all, long origin, List<String> violations) {
        List<String> found = new ArrayList<>();
        long count = 0;
        for (Operation o : keyOps) {
            if (!(o.call() instanceof Call.KeyTxn t)
                    || t.fenceLock() == null
                    || !(o.result() instanceof Result.Transacted done && done.succeeded())) {
                continue;
            }
            count++;
            for (Operation other : all) {
                if (other.completed() && other.end() < o.start() && ended(other, t.fenceLock(), t.fenceToken())) {
                    found.add(t.fenceLock() + ": " + o.describe(origin) + " ran fenced by token " + t.fenceToken()
                            + " after " + other.describe(origin) + " returned");
                    break;
                }
            }
        }
        report("fences", found, violations);
        return count;
    }

    /** Whether {@code o} shows that the grant with {@code token} of {@code lock} had ended when it returned. */
    private static boolean ended(Operation o, String lock, long token) {
        if (!lock.equals(o.key())) {
            return false;
        }
        if (o.call() instanceof Call.Acquire) {
            return o.token() > token;
        }
        return o.call() instanceof Call.Release r && r.token() == token && o.ok();
    }

    /** Adds the first {@link #SHOWN} of {@code found} to {@code violations}, with a count of the rest. */
    static void report(String rule, List<String> found, List<String> violations) {
        for (int i = 0; i < Math.min(SHOWN, found.size()); i++) {
            violations.add(found.get(i));
        }
        if (found.size() > SHOWN) {
            violations.add("(" + (found.size() - SHOWN) + " more of " + rule + ")");
        }
    }
}
