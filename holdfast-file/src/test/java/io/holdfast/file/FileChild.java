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
 * </ul>
 */
public final class FileChild {
    private FileChild() {}

    public static void main(String[] args) throws Exception {
        LockClient client = LockClient.open(args[1]);
        if (args[0].equals("increment")) {
            java.nio.file.Path go = java.nio.file.Path.of(args[4]);
            System.out.println("READY");
            System.out.flush();
            while (!java.nio.file.Files.exists(go)) {
                Thread.sleep(1);
            }
            increment(client.register(args[2]), Integer.parseInt(args[3]));
            System.out.println("DONE");
            client.close();
            System.exit(0);
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
}
