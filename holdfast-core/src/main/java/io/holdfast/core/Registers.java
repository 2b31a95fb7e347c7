// Ceiling 500 lines, one idea: the store of keys, one record per key with its lifetime, and every change to it
// (put, delete, add, a transaction's journal) in one place, so that what is derived from the keys stays exact.
package io.holdfast.core;

import io.holdfast.Counters;
import io.holdfast.ErrorCode;
import io.holdfast.ExpectedVersions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Names;
import io.holdfast.PutOptions.Lifetime;
import io.holdfast.WatchEvent;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.KeyPage;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import io.holdfast.model.Reply.Failed;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.IntSupplier;
import java.util.function.Predicate;

/**
 * The keys of {@link LockTable} (registers grown up): one record per key, its version, value, and
 * how long it lives (attached to a session, a time to live, or until deleted; a put that names no
 * lifetime keeps the key's). Written by
 * compare-and-set ({@link RegisterSet}), optionally only while a fencing token is a current grant
 * and, for a write that says so ({@link RegisterSet#ownFence()}, every write since protocol version
 * 4), a grant held by the writing session; deleted ({@link KeyDelete}), counted ({@link
 * CounterAdd}), listed in byte order, and changed several at once by {@link Transactions}. Keeps
 * the sum of every value's bytes for the {@code register-bytes} quota and the keys each session
 * owns for {@link Limits#MAX_KEYS_PER_SESSION}.
 *
 * <p>Guarantees: a write that is refused (conflict, quota, limit) changes nothing; a written value
 * is a copy of the command's bytes and a read returns a copy, so no caller can change a stored
 * value. Malformed input is thrown as {@link InvalidArgumentException} before anything changes.
 * The keys of a session go in the step that ends it ({@link #sessionEnded}); a key whose time to
 * live passed goes at the first {@link io.holdfast.model.Command.Tick} at or after its deadline
 * ({@link #expire}), never by a clock. Every put and delete is told to the table's changes
 * ({@link WatchEvent#registerSet}, {@link WatchEvent#registerDeleted}) in the order made. It does
 * not check access rules (the table does that before it calls in) and does not know the locks: the
 * fence is checked through the {@link Fences} it is given. A write of type 10 ({@code ownFence} false)
 * still takes another session's current grant as its fence: that is the meaning those log entries
 * had, and replaying them otherwise would make replicas differ.
 *
 * <p>While a {@link #begin journal} is open (a transaction), every change is recorded so that
 * {@link #rollback} puts the keys back exactly, and changes are told only at {@link #commit}.
 */
final class Registers {
    /** Keys in the byte order of their UTF-8: code point order. */
    static final Comparator<String> BYTE_ORDER = KeyArguments::compareCodePoints;

    /** Who holds a fence, as the table knows it. */
    @FunctionalInterface
    interface Fences {
        /** The id of the session holding the current grant of {@code name} with {@code token}, or null if none does. */
        String holder(String name, long token);
    }

    private record Deadline(long at, String key) {}

    private record Undo(String key, Register before) {}

    private final TreeMap<String, Register> registers = new TreeMap<>(BYTE_ORDER);
    private final Queues queues;
    private final Fences fences;
    private final Admission admission;
    private final IntSupplier stateEntries;
    /** Bytes of every register value together (derived). */
    private long bytes;
    /** The keys each session owns (derived). */
    private final Map<String, TreeSet<String>> owned = new HashMap<>();
    /** The keys with a time to live, earliest first (derived). */
    private final TreeSet<Deadline> deadlines =
            new TreeSet<>(Comparator.comparingLong(Deadline::at).thenComparing(Deadline::key, BYTE_ORDER));

    private List<Undo> journal;
    private List<WatchEvent> held;
    private final boolean keepsOwner;

    /**
     * @param queues the clock and where changes are told
     * @param fences who holds (name, token), for a fenced write
     * @param admission the quotas, and where a refusal is counted
     * @param stateEntries the sessions, locks and registers the table holds now
     * @param bugs the table's planted bugs (verification only): with {@link
     *     PlantedBug#REJOIN_KEEPS_DEAD_SESSION} a put attaching a key another session owns leaves
     *     that session its owner
     */
    Registers(Queues queues, Fences fences, Admission admission, IntSupplier stateEntries, Set<PlantedBug> bugs) {
        this.keepsOwner = bugs.contains(PlantedBug.REJOIN_KEEPS_DEAD_SESSION);
        this.queues = queues;
        this.fences = fences;
        this.admission = admission;
        this.stateEntries = stateEntries;
        queues.idle = this::electionEnded;
    }

    /** Applies a compare-and-set by {@code c.invocation()}'s session. */
    Reply set(RegisterSet c) {
        String key = KeyArguments.checkKey(c.key());
        KeyArguments.checkValue(c.value());
        if (c.expectedVersion() < 0) {
            throw new InvalidArgumentException("expected version must not be negative");
        }
        KeyArguments.checkTtl(c.ttlMillis(), c.lifetime());
        String session = c.invocation().sessionId();
        if (c.fenceName() != null) {
            Register current = registers.get(key);
            long version = current == null ? 0 : current.version;
            String holder = fences.holder(Names.check(c.fenceName()), c.fenceToken());
            if (holder == null) {
                return new Failed(
                        ErrorCode.CONFLICT,
                        "fencing token " + c.fenceToken() + " is no longer a current grant of " + c.fenceName(),
                        List.of(),
                        version);
            }
            if (c.ownFence() && !holder.equals(session)) {
                return new Failed(
                        ErrorCode.CONFLICT,
                        "fencing token " + c.fenceToken() + " of " + c.fenceName()
                                + " belongs to another session, not to the writing one",
                        List.of(),
                        version);
            }
        }
        long record = ElectionRecords.token(key, c);
        if (record != 0) { // an election's record: it keeps the key's lifetime, as every keeping write
            Register current = registers.get(key);
            String owner = current == null ? null : current.owner;
            return put(
                    key,
                    c.expectedVersion(),
                    c.value(),
                    owner,
                    current == null ? 0 : current.deadline,
                    session,
                    record);
        }
        return write(key, c.expectedVersion(), c.value(), c.lifetime(), c.ttlMillis(), session);
    }

    /**
     * Writes a checked key as a put of {@code lifetime} by {@code writer} does: attached to the
     * writer, detached, or kept as the key has it (its owner, whoever writes, and its deadline; a
     * key that was absent lives until deleted).
     */
    Reply write(String key, long expected, byte[] value, Lifetime lifetime, long ttlMillis, String writer) {
        if (lifetime == Lifetime.KEEP) {
            Register current = registers.get(key);
            return current == null
                    ? put(key, expected, value, null, 0, writer)
                    : put(key, expected, value, current.owner, current.deadline, writer);
        }
        return put(key, expected, value, lifetime == Lifetime.ATTACH ? writer : null, deadline(ttlMillis), writer);
    }

    /**
     * Writes a checked key if its version is {@code expected} ({@link KeyDelete#ANY_VERSION}: any),
     * attached to {@code owner} (null: none), until {@code deadline} (0: none; see {@link #deadline}).
     */
    Reply put(String key, long expected, byte[] value, String owner, long deadline, String writer) {
        return put(key, expected, value, owner, deadline, writer, 0);
    }

    /** {@link #put}, the key marked as the record of the election whose leadership has {@code record} (0: none). */
    private Reply put(
            String key, long expected, byte[] value, String owner, long deadline, String writer, long record) {
        Register current = registers.get(key);
        long version = current == null ? 0 : current.version;
        String conflict = ExpectedVersions.refusal(key, expected, version);
        if (conflict != null) {
            return new Failed(ExpectedVersions.REFUSED, conflict, List.of(), version);
        }
        if (keepsOwner && owner != null && current != null && current.owner != null) {
            owner = current.owner; // planted: the key stays with the session that held it
        }
        int entries = stateEntries.getAsInt();
        if (current == null && entries >= admission.quotas().stateEntries()) {
            return admission.stateEntriesExceeded(entries);
        }
        long next = bytes - (current == null ? 0 : current.value.length) + value.length;
        if (next > admission.quotas().registerBytes()) {
            return admission.quotaExceeded(Admission.REGISTER_BYTES, "register values would take " + next + " bytes");
        }
        if (owner != null && (current == null || !owner.equals(current.owner))) {
            int has = owned.getOrDefault(owner, EMPTY).size();
            if (has >= Limits.MAX_KEYS_PER_SESSION) {
                return new Failed(
                        ErrorCode.QUOTA_EXCEEDED,
                        "session " + owner + " owns " + has + " keys; the limit keys-per-session is "
                                + Limits.MAX_KEYS_PER_SESSION,
                        List.of(),
                        version);
            }
        }
        replace(key, new Register(version + 1, value.clone(), owner, deadline, record));
        tell(
                record == 0
                        ? WatchEvent.registerSet(key, writer, version + 1, value)
                        : ElectionRecords.written(key, writer, version + 1, value, record));
        return new Reply.Written(version + 1);
    }

    /** Applies a delete by {@code c.invocation()}'s session. */
    Reply delete(KeyDelete c) {
        String key = KeyArguments.checkKey(c.key());
        KeyArguments.checkExpected(c.expectedVersion());
        return delete(key, c.expectedVersion(), c.invocation().sessionId());
    }

    /** Deletes a checked key if its version is {@code expected}; answers the version it had. */
    Reply delete(String key, long expected, String writer) {
        Register current = registers.get(key);
        long version = current == null ? 0 : current.version;
        String conflict = ExpectedVersions.refusal(key, expected, version);
        if (conflict != null) {
            return new Failed(ExpectedVersions.REFUSED, conflict, List.of(), version);
        }
        if (current != null) {
            replace(key, null);
            tell(deleted(key, writer, version, null, current.record));
        }
        return new Reply.Ok(version);
    }

    /** Applies a counter add by {@code c.invocation()}'s session. */
    Reply add(CounterAdd c) {
        return add(KeyArguments.checkKey(c.key()), c.delta(), c.invocation().sessionId());
    }

    /** Adds to a checked key's counter; answers {@link Reply.Counted}, or the refusal of {@link Counters}. */
    Reply add(String key, long delta, String writer) {
        Register current = registers.get(key);
        long version = current == null ? 0 : current.version;
        byte[] had = current == null ? null : current.value;
        String refused = Counters.refusal(key, had, delta);
        if (refused != null) {
            return new Failed(Counters.REFUSED, refused, List.of(), version);
        }
        long sum = Counters.decode(key, had) + delta;
        byte[] value = Counters.encode(sum);
        Reply written = current == null
                ? put(key, 0, value, null, 0, writer)
                : put(key, version, value, current.owner, current.deadline, writer);
        return written instanceof Reply.Written w ? new Reply.Counted(sum, w.version()) : written;
    }

    /** Deletes the keys attached to a session that ends, in byte order, telling {@code cause}. */
    void sessionEnded(String sessionId, WatchEvent.Cause cause) {
        TreeSet<String> keys = owned.get(sessionId);
        if (keys == null) {
            return;
        }
        for (String key : new ArrayList<>(keys)) {
            Register r = registers.get(key);
            replace(key, null);
            tell(deleted(key, sessionId, r.version, cause, r.record));
        }
    }

    /** Deletes the record of an election that has nobody now: its lock went idle ({@link Queues#dropIfIdle}). */
    private void electionEnded(String name) {
        Register r = registers.get(name);
        if (r != null && r.record != 0) {
            replace(name, null);
            tell(ElectionRecords.ended(name, r.version, r.record));
        }
    }

    /** Deletes every key whose time to live has passed by {@code now}, earliest first. */
    void expire(long now) {
        while (!deadlines.isEmpty() && deadlines.first().at() <= now) {
            String key = deadlines.first().key();
            Register r = registers.get(key);
            replace(key, null);
            tell(deleted(key, r.owner, r.version, WatchEvent.Cause.LEASE_TIMEOUT, r.record));
        }
    }

    /** The table time a time to live of {@code ttlMillis} (0: none) passes at, from now. */
    long deadline(long ttlMillis) {
        return ttlMillis == 0 ? 0 : queues.now() + ttlMillis;
    }

    /** The earliest deadline of a key's time to live; {@link Long#MAX_VALUE} if none. */
    long nextDeadline() {
        return deadlines.isEmpty() ? Long.MAX_VALUE : deadlines.first().at();
    }

    // ---------------------------------------------------------------- transactions' journal

    /** Opens a journal: changes are recorded for {@link #rollback} and told at {@link #commit}. */
    void begin() {
        journal = new ArrayList<>();
        held = new ArrayList<>();
    }

    /** Keeps what was done since {@link #begin} and tells its changes. */
    void commit() {
        List<WatchEvent> told = held;
        journal = null;
        held = null;
        told.forEach(this::tell);
    }

    /** Puts every key back as it was at {@link #begin}; tells nothing. */
    void rollback() {
        List<Undo> undo = journal;
        journal = null;
        held = null;
        for (int i = undo.size() - 1; i >= 0; i--) {
            replace(undo.get(i).key(), undo.get(i).before());
        }
    }

    // ---------------------------------------------------------------- reads

    /** The register's value, or empty if it is absent. */
    Optional<RegisterValue> get(String key) {
        Register reg = registers.get(key);
        return reg == null ? Optional.empty() : Optional.of(new RegisterValue(reg.version, reg.value.clone()));
    }

    /** The key as it is now, or empty if it is absent. */
    Optional<KeyPage.Entry> entry(String key) {
        Register reg = registers.get(key);
        return reg == null
                ? Optional.empty()
                : Optional.of(new KeyPage.Entry(key, reg.version, reg.value, reg.owner, reg.deadline));
    }

    /**
     * One page of keys, as {@link LockTable#keys} answers it: it ends at {@code limit} keys or at
     * {@link Limits#MAX_KEY_PAGE_BYTES} of keys and values (at least one key), to fit a frame.
     */
    KeyPage page(String prefix, String after, int limit, Predicate<String> visible, ChangePosition readAt) {
        Limits.checkRange("a page's limit", limit, 1, Limits.MAX_KEY_PAGE);
        if (!prefix.isEmpty()) {
            Names.check(prefix);
        }
        SortedMap<String, Register> from =
                registers.tailMap(after != null && BYTE_ORDER.compare(after, prefix) >= 0 ? after : prefix, true);
        List<KeyPage.Entry> out = new ArrayList<>(Math.min(limit, 64));
        long bytes = 0;
        for (Map.Entry<String, Register> e : from.entrySet()) {
            String key = e.getKey();
            if (!key.startsWith(prefix)) {
                break;
            }
            if (key.equals(after) || !visible.test(key) || e.getValue().record != 0) {
                continue;
            }
            Register r = e.getValue();
            KeyPage.Entry entry = new KeyPage.Entry(key, r.version, r.value, r.owner, r.deadline);
            int size = entry.size();
            if (out.size() == limit || (!out.isEmpty() && bytes + size > Limits.MAX_KEY_PAGE_BYTES)) {
                return new KeyPage(out, true, readAt); // a key that matches is left for the next page
            }
            out.add(entry);
            bytes += size;
        }
        return new KeyPage(out, false, readAt);
    }

    /** The first {@code limit} keys under a checked {@code prefix}, in byte order; not elections' records. */
    List<String> keysUnder(String prefix, int limit) {
        List<String> out = new ArrayList<>(Math.min(limit, 64));
        for (Map.Entry<String, Register> e : registers.tailMap(prefix, true).entrySet()) {
            if (!e.getKey().startsWith(prefix) || out.size() == limit) {
                break;
            }
            if (e.getValue().record == 0) {
                out.add(e.getKey());
            }
        }
        return out;
    }

    int size() {
        return registers.size();
    }

    /** Bytes of every value together. */
    long bytes() {
        return bytes;
    }

    /** The registers themselves, for the snapshot codec (which calls {@link #recount} after filling it). */
    Map<String, Register> map() {
        return registers;
    }

    /**
     * Copies every key (versions, values, times to live) into {@code into}, for a restored table;
     * not the keys attached to sessions, which end with every session of the old table, nor the
     * elections' records, whose locks end with them.
     */
    void copyInto(Registers into) {
        for (Map.Entry<String, Register> e : registers.entrySet()) {
            Register r = e.getValue();
            if (r.owner == null && r.record == 0) {
                into.registers.put(e.getKey(), new Register(r.version, r.value.clone(), null, r.deadline));
            }
        }
        into.recount();
    }

    /** Rebuilds the byte count, the keys of each session and the deadlines from the keys. */
    void recount() {
        bytes = 0;
        owned.clear();
        deadlines.clear();
        for (Map.Entry<String, Register> e : registers.entrySet()) {
            index(e.getKey(), e.getValue(), true);
        }
    }

    // ---------------------------------------------------------------- checks and bookkeeping

    private static final TreeSet<String> EMPTY = new TreeSet<>();

    /** Sets (null: removes) a key, keeping what is derived, and the journal if one is open. */
    private void replace(String key, Register next) {
        Register before = next == null ? registers.remove(key) : registers.put(key, next);
        if (journal != null) {
            journal.add(new Undo(key, before));
        }
        if (before != null) {
            index(key, before, false);
        }
        if (next != null) {
            index(key, next, true);
        }
    }

    private void index(String key, Register r, boolean add) {
        bytes += add ? r.value.length : -r.value.length;
        if (r.owner != null) {
            if (add) {
                owned.computeIfAbsent(r.owner, o -> new TreeSet<>(BYTE_ORDER)).add(key);
            } else {
                TreeSet<String> keys = owned.get(r.owner);
                keys.remove(key);
                if (keys.isEmpty()) {
                    owned.remove(r.owner);
                }
            }
        }
        if (r.deadline != 0) {
            if (add) {
                deadlines.add(new Deadline(r.deadline, key));
            } else {
                deadlines.remove(new Deadline(r.deadline, key));
            }
        }
    }

    /** A key's deletion, carrying the token of the election whose record it was (0: none). */
    private static WatchEvent deleted(String key, String writer, long version, WatchEvent.Cause cause, long record) {
        WatchEvent e = WatchEvent.registerDeleted(key, writer, version, cause);
        return record == 0
                ? e
                : new WatchEvent(e.type(), key, writer, record, null, cause, version, null, null, null, null);
    }

    private void tell(WatchEvent change) {
        if (held != null) {
            held.add(change);
        } else if (queues.changes != null) {
            queues.changes.accept(change);
        }
    }
}
