package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.LockInfo;
import io.holdfast.LockMode;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.Event;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test fixture around one {@link LockTable}: a clock the test moves by hand, sessions ({@link
 * Client}) that number their requests, and the events of every apply.
 *
 * <p>The clock never moves by itself: {@link #advance} and {@link #at} set the time that the next
 * commands carry. Every client command gets the client's next sequence number; build a command
 * with {@link AcquireRequest#command()} to apply it twice (a retry).
 */
final class TableDriver {
    /** The time of the first command; far from 0 so that durations and instants are not confused. */
    static final long START = 1_000_000;

    static final long TTL = 10_000;

    private final LockTable table;
    private final Map<String, Client> clients = new LinkedHashMap<>();
    private final List<Event> lastEvents = new ArrayList<>();
    private final List<Event> allEvents = new ArrayList<>();
    private long time;

    TableDriver() {
        this(new LockTable(), START);
    }

    /** A driver over {@code table} (for example one with planted bugs), starting at {@link #START}. */
    TableDriver(LockTable table) {
        this(table, START);
    }

    private TableDriver(LockTable table, long time) {
        this.table = table;
        this.time = time;
    }

    LockTable table() {
        return table;
    }

    /** The time the next command carries. */
    long time() {
        return time;
    }

    TableDriver advance(long millis) {
        time += millis;
        return this;
    }

    TableDriver at(long time) {
        this.time = time;
        return this;
    }

    /** Applies a command (null too) at the driver's time and records its events; {@link #events()} returns them. */
    Reply apply(Command command) {
        lastEvents.clear();
        Reply reply = table.apply(time, command, e -> {
            lastEvents.add(e);
            allEvents.add(e);
        });
        assertThat(reply).as("apply never answers null").isNotNull();
        return reply;
    }

    /** The events of the last apply, in order. */
    List<Event> events() {
        return List.copyOf(lastEvents);
    }

    /** Every event since the driver was made. */
    List<Event> allEvents() {
        return List.copyOf(allEvents);
    }

    // ---------------------------------------------------------------------------------- sessions

    /** Opens a session without lock-delay and asserts that it opened. */
    Client open(String name) {
        return open(name, 0);
    }

    /** Opens a session with the given lock-delay and asserts that it opened. */
    Client open(String name, long lockDelayMillis) {
        Client c = new Client(name, sessionId(name));
        assertThat(apply(new Command.OpenSession(c.id, name, TTL, lockDelayMillis)))
                .isEqualTo(Reply.Ok.INSTANCE);
        clients.put(name, c);
        return c;
    }

    /** The client opened under this name. */
    Client client(String name) {
        Client c = clients.get(name);
        assertThat(c).as("client %s", name).isNotNull();
        return c;
    }

    /** A valid session id (16+ characters from the allowed set) derived from a short name. */
    static String sessionId(String name) {
        return "session-" + name + "-0123456789";
    }

    Reply expire(Client c) {
        return apply(new Command.ExpireSession(c.id));
    }

    Reply tick() {
        return apply(new Command.Tick());
    }

    /** Moves the clock to {@code time} and ticks. */
    Reply tickAt(long time) {
        return at(time).tick();
    }

    Reply revoke(String name) {
        return apply(new Command.Revoke(name));
    }

    LockInfo describe(String name) {
        return table.describe(name, time).orElseThrow(() -> new AssertionError(name + " is not in the table"));
    }

    // ---------------------------------------------------------------------------------- snapshots

    byte[] snapshot() {
        return snapshotOf(table);
    }

    /**
     * Asserts that the table's snapshot is byte for byte {@code before}: the table is unchanged
     * (the snapshot is canonical). Reports the first differing byte rather than both arrays.
     */
    void assertUnchangedSince(byte[] before, String what) {
        byte[] now = snapshot();
        int at = Arrays.mismatch(before, now);
        assertThat(at)
                .as(
                        "%s: the snapshot (%d bytes before, %d after) differs from byte %d on",
                        what, before.length, now.length, at)
                .isEqualTo(-1);
    }

    static byte[] snapshotOf(LockTable table) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            table.writeSnapshot(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * A driver over the table read back from this one's snapshot, with the same clock and the same
     * clients (same names, next sequence numbers and acknowledgements).
     */
    TableDriver restored() throws IOException {
        TableDriver copy = new TableDriver(
                LockTable.readSnapshot(new ByteArrayInputStream(snapshot()), table.plantedBugs()), time);
        for (Client c : clients.values()) {
            Client twin = copy.new Client(c.name, c.id);
            twin.seq = c.seq;
            twin.ackedBelow = c.ackedBelow;
            copy.clients.put(c.name, twin);
        }
        return copy;
    }

    // ---------------------------------------------------------------------------------- replies

    static Reply.Granted granted(Reply reply) {
        assertThat(reply).isInstanceOf(Reply.Granted.class);
        return (Reply.Granted) reply;
    }

    static long token(Reply reply) {
        return granted(reply).token();
    }

    static Reply.Failed failed(Reply reply, ErrorCode code) {
        assertThat(reply).isInstanceOf(Reply.Failed.class);
        Reply.Failed f = (Reply.Failed) reply;
        assertThat(f.code()).as("error code of %s", f).isEqualTo(code);
        return f;
    }

    // ---------------------------------------------------------------------------------- clients

    /** One session: numbers its requests 1, 2, 3, … and acknowledges only when told to. */
    final class Client {
        final String name;
        final String id;
        private long seq;
        private long ackedBelow;

        private Client(String name, String id) {
            this.name = name;
            this.id = id;
        }

        /** The invocation id of the next request. */
        Invocation next() {
            return new Invocation(id, ++seq, ackedBelow);
        }

        /** The sequence number of the last request built. */
        long lastSeq() {
            return seq;
        }

        /** From now on, requests tell the table that every reply below {@code seq} was delivered. */
        void acknowledgeBelow(long seq) {
            ackedBelow = seq;
        }

        /** An exclusive try by owner 1; refine it before {@link AcquireRequest#apply()}. */
        AcquireRequest acquire(String name) {
            return new AcquireRequest(this, name);
        }

        Reply release(String name, long token) {
            return apply(new Command.Release(next(), name, token));
        }

        /** A multi-lock by {@code owner}: {@code names} as given (the table wants them sorted). */
        Command.AcquireAll acquireAllCommand(
                LockMode mode, long owner, long waitMillis, long leaseMillis, String... names) {
            return new Command.AcquireAll(next(), java.util.List.of(names), mode, owner, waitMillis, leaseMillis);
        }

        Reply acquireAll(LockMode mode, long owner, long waitMillis, String... names) {
            return apply(acquireAllCommand(mode, owner, waitMillis, 0, names));
        }

        Reply renew(String name, long token) {
            return apply(new Command.Renew(next(), name, token));
        }

        Reply cancelWait(String name, long waitSeq) {
            return apply(new Command.CancelWait(next(), name, waitSeq));
        }

        Reply close() {
            return apply(new Command.CloseSession(next()));
        }

        Reply keepAlive() {
            return apply(new Command.KeepAlive(id));
        }

        Reply set(String key, long expectedVersion, byte[] value) {
            return apply(new RegisterSet(next(), key, expectedVersion, value, null, 0));
        }

        Reply setFenced(String key, long expectedVersion, byte[] value, String lock, long token) {
            return apply(new RegisterSet(next(), key, expectedVersion, value, lock, token));
        }

        /** A fenced write as type 10 logs it: the fence may be any session's current grant. */
        Reply setFencedAnySession(String key, long expectedVersion, byte[] value, String lock, long token) {
            return apply(new RegisterSet(next(), key, expectedVersion, value, lock, token).withAnyFence());
        }
    }

    /** An acquire request under construction; defaults: exclusive, owner 1, try, no lease. */
    final class AcquireRequest {
        private final Client client;
        private final String name;
        private LockMode mode = LockMode.EXCLUSIVE;
        private int permits = 1;
        private int maxPermits = 1;
        private long owner = 1;
        private long waitMillis;
        private long leaseMillis;

        private AcquireRequest(Client client, String name) {
            this.client = client;
            this.name = name;
        }

        AcquireRequest shared() {
            return mode(LockMode.SHARED);
        }

        AcquireRequest mode(LockMode mode) {
            this.mode = mode;
            return this;
        }

        /** Semaphore permits: {@code permits} of a semaphore of {@code maxPermits}. */
        AcquireRequest permits(int permits, int maxPermits) {
            this.mode = LockMode.PERMITS;
            this.permits = permits;
            this.maxPermits = maxPermits;
            return this;
        }

        AcquireRequest owner(long owner) {
            this.owner = owner;
            return this;
        }

        AcquireRequest waitMillis(long waitMillis) {
            this.waitMillis = waitMillis;
            return this;
        }

        AcquireRequest lease(long leaseMillis) {
            this.leaseMillis = leaseMillis;
            return this;
        }

        /** Builds the command with the client's next sequence number, without applying it. */
        Command.Acquire command() {
            return new Command.Acquire(client.next(), name, mode, permits, maxPermits, owner, waitMillis, leaseMillis);
        }

        Reply apply() {
            return TableDriver.this.apply(command());
        }
    }
}
