package io.holdfast.internal;

import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one thread factory of Holdfast's implementations: daemon threads with a name that says whose
 * they are, so that a thread dump reads and no Holdfast thread keeps a JVM from exiting.
 *
 * <p><b>Guarantees.</b> Every thread made is a daemon, named as asked. <b>Does not</b> start the
 * threads, nor install an uncaught-exception handler: the code that runs on them logs its own
 * failures.
 *
 * <p><b>A failure story.</b> An application forgets to close its client and returns from {@code
 * main}: the client's timers and callbacks run on daemons from here, so the JVM exits rather than
 * hanging on a thread nobody can name.
 */
public final class DaemonThreads {
    private DaemonThreads() {}

    /** Daemon threads, each named {@code name}: for executors of one thread. */
    public static ThreadFactory named(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** Daemon threads named {@code prefix-1}, {@code prefix-2}, ...: for pools. */
    public static ThreadFactory numbered(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * An executor that runs each task on a new daemon thread named {@code name}: for a loop that
     * holds its thread for its whole life, such as a watch's ({@link WatchRunner}), so that a
     * thread dump names what the thread follows.
     */
    public static Executor threadPerTask(String name) {
        return task -> thread(task, name).start();
    }

    /** A daemon thread named {@code name} that runs {@code task}, not yet started. */
    public static Thread thread(Runnable task, String name) {
        return named(name).newThread(task);
    }
}
