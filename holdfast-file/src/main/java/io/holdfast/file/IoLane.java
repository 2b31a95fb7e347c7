package io.holdfast.file;

import io.holdfast.HoldfastException;
import io.holdfast.UnavailableException;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.store.Deadline;
import java.io.IOException;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The one thread that touches a directory's files, and the bounded wait of the callers for it.
 *
 * <p><b>Why a thread of its own.</b> A {@link java.nio.channels.FileChannel} is interruptible: a
 * thread interrupted during an operation on it closes the channel, and closing a channel releases
 * every lock the JVM holds on that file, including other clients' shared locks taken through the
 * same channel. The client interrupts waiting threads (on close, on a cancelled async wait), so
 * channels are used only here, on a thread nobody interrupts. Callers wait for the result up to
 * their request timeout; an interrupt during that wait is remembered and restored afterwards.
 *
 * <p><b>Abandoned calls.</b> A caller that gives up (its request timeout passed) gets {@link
 * UnavailableException}; the task is then skipped if it has not started, and if it has, its result
 * goes to the {@code orphan} handler on this thread (a grant nobody will receive is given back).
 */
final class IoLane {
    /** Work on the lane's thread. */
    interface Task<T> {
        T run() throws IOException;
    }

    private static final long WAIT_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final ThreadPoolExecutor executor;

    IoLane(String threadName) {
        this.executor = new ThreadPoolExecutor(
                1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), DaemonThreads.named(threadName));
    }

    /**
     * Runs {@code task} on the lane and waits for it until {@code deadline}.
     *
     * @param what completes "... took longer than the request timeout" in messages
     * @param orphan what to do with a result whose caller gave up, or null
     * @throws UnavailableException on an I/O failure or when the deadline passes first
     */
    <T> T call(String what, Deadline deadline, Task<T> task, Consumer<? super T> orphan) {
        Call<T> call = new Call<>(task, orphan);
        try {
            executor.execute(call);
        } catch (RejectedExecutionException e) {
            throw new UnavailableException("file: " + what + ": the directory was closed in this JVM", e);
        }
        return call.await(what, deadline);
    }

    /** Runs the queued tasks, then lets the thread end. */
    void shutdown() {
        executor.shutdown();
    }

    /** Turns a failure of a task into what the caller throws. */
    static RuntimeException translate(String what, Throwable failure) {
        if (failure instanceof HoldfastException e) {
            return e;
        }
        if (failure instanceof NoSuchFileException e) {
            return new UnavailableException(
                    "file: " + what + ": " + e.getFile()
                            + " is missing (is the directory unmounted, moved or deleted?)",
                    e);
        }
        if (failure instanceof AccessDeniedException e) {
            return new UnavailableException("file: " + what + ": access denied to " + e.getFile(), e);
        }
        if (failure instanceof IOException || failure instanceof OverlappingFileLockException) {
            return new UnavailableException("file: " + what + " failed: " + failure, failure);
        }
        if (failure instanceof RuntimeException e) {
            return e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(failure);
    }

    private static final class Call<T> implements Runnable {
        private final Task<T> task;
        private final Consumer<? super T> orphan;
        private T result;
        private Throwable failure;
        private boolean done;
        private boolean abandoned;

        Call(Task<T> task, Consumer<? super T> orphan) {
            this.task = task;
            this.orphan = orphan;
        }

        @Override
        public void run() {
            synchronized (this) {
                if (abandoned) {
                    return;
                }
            }
            T r = null;
            Throwable f = null;
            try {
                r = task.run();
            } catch (Throwable t) {
                f = t;
            }
            boolean orphaned;
            synchronized (this) {
                orphaned = abandoned;
                if (!orphaned) {
                    result = r;
                    failure = f;
                    done = true;
                    notifyAll();
                }
            }
            if (orphaned && r != null && orphan != null) {
                orphan.accept(r);
            }
        }

        T await(String what, Deadline deadline) {
            boolean interrupted = false;
            try {
                synchronized (this) {
                    while (!done) {
                        long left = deadline.remainingNanos();
                        if (left <= 0) {
                            abandoned = true;
                            throw new UnavailableException("file: " + what
                                    + " took longer than the request timeout (is the file system hung?)");
                        }
                        try {
                            TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, WAIT_SLICE_NANOS));
                        } catch (InterruptedException e) {
                            interrupted = true;
                        }
                    }
                }
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            if (failure != null) {
                throw translate(what, failure);
            }
            return result;
        }
    }
}
