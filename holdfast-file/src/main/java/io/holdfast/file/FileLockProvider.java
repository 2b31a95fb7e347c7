package io.holdfast.file;

import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.spi.LockProvider;
import io.holdfast.store.StoreLockClient;

/**
 * The {@code file:} provider: Holdfast locks over a directory, for processes on one host or on a
 * shared file system whose locks are POSIX locks that work across its clients (NFSv4, for example;
 * check yours).
 *
 * <pre>{@code
 * try (LockClient client = LockClient.open("file:///var/lib/myapp/locks")) {
 *     try (Lease lease = client.lock("orders/42").acquire(Duration.ofSeconds(5))) {
 *         orders.write(order, lease.fencingToken());
 *     }
 * }
 * }</pre>
 *
 * <p><b>URI.</b> {@code file:///absolute/dir} with options {@code create} (default true: create
 * the directory if missing; false when a missing directory means an unmounted share), {@code fsync}
 * (default true: each new fencing token reaches the disk before it is handed out) and {@code
 * maxPoll} (default {@code 100ms}: the longest pause of a waiting acquire between attempts), as in
 * {@code file:///srv/locks?create=false&maxPoll=50ms}.
 *
 * <p><b>What it guarantees.</b> Mutual exclusion between every client of the directory, in this JVM
 * or other processes, by OS file locks ({@code FileChannel.tryLock}, {@code fcntl} locks on Linux);
 * read-write locks by shared OS locks; fencing tokens from a counter file that only grow, across
 * all names and processes, and survive restarts and (with {@code fsync=true}) power losses. A
 * holder whose process dies loses its locks at once: the OS releases them.
 *
 * <p><b>What it does not.</b> No fair queue (waiters poll; waiters in this JVM are woken by a
 * release here, others find out within {@code maxPoll}), so a busy lock can starve a waiter, and
 * readers can starve a writer. No sessions: a holder that is alive but stuck (a stopped process, a
 * hung thread) keeps its locks forever; nothing expires. No lease timeouts, semaphores, listing,
 * revocation or deadlock detection. A directory on one disk does not survive that disk.
 *
 * <p><b>A failure story.</b> A worker holds {@code orders/42} and is killed with SIGKILL. The
 * kernel closes its descriptors and drops its lock at once; the next waiter, polling, takes the lock
 * within {@code maxPoll} and gets a larger token. The dead worker's record still sits in the lock
 * file (the last exclusive holder), but {@code isCurrentHolder} asks the OS lock, not the record, and
 * answers false for the dead worker's token.
 */
public final class FileLockProvider implements LockProvider {
    /** For {@link java.util.ServiceLoader}. */
    public FileLockProvider() {}

    @Override
    public String name() {
        return "file";
    }

    @Override
    public boolean accepts(String uri) {
        return FileStoreUri.accepts(uri);
    }

    /**
     * Opens a client over the URI's directory, creating the directory, its {@code locks/}
     * subdirectory and its {@code counter} file if they are missing (unless {@code create=false}).
     *
     * @throws InvalidArgumentException if the URI is malformed or names something that is not a directory
     * @throws io.holdfast.UnavailableException if the directory cannot be reached or created
     */
    @Override
    public LockClient open(String uri, ClientOptions options) {
        if (options == null) {
            throw new InvalidArgumentException("options must not be null");
        }
        FileBackend backend = new FileBackend(FileStoreUri.parse(uri), options);
        return new StoreLockClient(backend, options);
    }
}
