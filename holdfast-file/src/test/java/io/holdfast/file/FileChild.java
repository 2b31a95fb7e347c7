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
 * </ul>
 */
public final class FileChild {
    private FileChild() {}

    public static void main(String[] args) throws Exception {
        LockClient client = LockClient.open(args[1]);
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
}
