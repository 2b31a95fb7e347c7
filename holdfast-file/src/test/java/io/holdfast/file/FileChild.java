package io.holdfast.file;

import io.holdfast.DistributedLock;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.time.Duration;
import java.util.Optional;

/**
 * A child JVM for {@link FileProviderTest}: another process on the same directory.
 *
 * <ul>
 *   <li>{@code hold URI NAME read|write}: takes the lock, prints {@code HELD TOKEN}, then waits to be
 *       killed.
 *   <li>{@code try URI NAME read|write}: prints {@code FREE TOKEN} (and releases) or {@code BUSY}.
 *   <li>{@code increment URI KEY N GO}: prints {@code READY}, waits for the file GO to exist, then adds 1
 *       to the register KEY (an 8-byte counter) N times with compare-and-set, retrying conflicts;
 *       prints {@code DONE}.
 *   <li>{@code member URI KEY}: puts KEY attached to its session, prints {@code JOINED SESSION},
 *       then waits to be killed.
 *   <li>{@code move URI FROM TO N GO}: prints {@code READY}, waits for GO, then moves 1 from the
 *       counter key FROM to the counter key TO N times, each a transaction that compares both keys'
 *       versions (retried when one moved); prints {@code DONE}.
 * </ul>
 */
public final class FileChild {
    private FileChild() {}

    public static void main(String[] args) throws Exception {
        LockClient client = LockClient.open(args[1]);
        if (args[0].equals("increment")) {
            awaitGo(args[4]);
            increment(client.register(args[2]), Integer.parseInt(args[3]));
            done(client);
        }
        if (args[0].equals("move")) {
            awaitGo(args[5]);
            move(client.keys(), args[2], args[3], Integer.parseInt(args[4]));
            done(client);
        }
        if (args[0].equals("member")) {
            client.keys()
                    .put(
                            args[2],
                            new byte[] {1},
                            io.holdfast.PutOptions.ifAbsent().attach());
            System.out.println("JOINED " + client.sessionId());
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
        DistributedLock lock = args[3].equals("read")
                ? client.readWriteLock(args[2]).readLock()
                : client.readWriteLock(args[2]).writeLock();
        switch (args[0]) {
            case "hold" -> {
                Lease lease = lock.acquire(Duration.ofSeconds(30));
                System.out.println("HELD " + lease.fencingToken());
                System.out.flush();
                Thread.sleep(Long.MAX_VALUE);
            }
            case "try" -> {
                Optional<Lease> lease = lock.tryAcquire();
                System.out.println(lease.map(l -> "FREE " + l.fencingToken()).orElse("BUSY"));
                lease.ifPresent(Lease::release);
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
        client.close();
        System.exit(0);
    }

    /** Prints {@code READY} and waits for the file {@code go} to exist. */
    private static void awaitGo(String go) throws InterruptedException {
        System.out.println("READY");
        System.out.flush();
        while (!java.nio.file.Files.exists(java.nio.file.Path.of(go))) {
            Thread.sleep(1);
        }
    }

    private static void done(LockClient client) {
        System.out.println("DONE");
        client.close();
        System.exit(0);
    }

    /** Adds 1 to the register {@code times} times, re-reading after each conflict. */
    static void increment(io.holdfast.VersionedRegister register, int times) {
        for (int i = 0; i < times; i++) {
            while (true) {
                Optional<io.holdfast.Versioned> current = register.get();
                long value = current.map(
                                v -> java.nio.ByteBuffer.wrap(v.value()).getLong())
                        .orElse(0L);
                try {
                    register.compareAndSet(
                            current.map(io.holdfast.Versioned::version).orElse(0L),
                            java.nio.ByteBuffer.allocate(8).putLong(value + 1).array());
                    break;
                } catch (io.holdfast.ConflictException e) {
                    // another process wrote in between: read again
                }
            }
        }
    }

    /** Moves 1 from {@code from} to {@code to} {@code times} times, each in one transaction. */
    static void move(io.holdfast.Keys keys, String from, String to, int times) {
        for (int i = 0; i < times; ) {
            io.holdfast.KeyEntry a = keys.get(from).orElseThrow();
            io.holdfast.KeyEntry b = keys.get(to).orElseThrow();
            io.holdfast.TxnResult moved = keys.commit(io.holdfast.Txn.when(
                            io.holdfast.Txn.version(from, io.holdfast.Txn.Order.EQUAL, a.version()),
                            io.holdfast.Txn.version(to, io.holdfast.Txn.Order.EQUAL, b.version()))
                    .then(
                            io.holdfast.Txn.put(from, counter(a.counter() - 1)),
                            io.holdfast.Txn.put(to, counter(b.counter() + 1))));
            if (moved.succeeded()) {
                i++;
            }
        }
    }

    static byte[] counter(long value) {
        return java.nio.ByteBuffer.allocate(8).putLong(value).array();
    }
}
