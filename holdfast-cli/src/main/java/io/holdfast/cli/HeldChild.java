package io.holdfast.cli;

import io.holdfast.LockClient;
import io.holdfast.LockLostException;
import io.holdfast.UnavailableException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Runs a command while something is held (a lock, several, a leadership) and gives it back: what
 * {@code holdfast lock} and {@code holdfast elect} share. The exit code is the command's own, or
 * {@value ExitCodes#LOCK_LOST} when what was held was lost while the command ran (the command is
 * stopped: SIGTERM, then SIGKILL after the grace) or before it could be given back. Should this process die
 * without stopping the command (SIGKILL, the OOM killer), the command's {@link ChildGuard} stops it the same way,
 * on Linux, before what was held can expire and go to another holder.
 */
final class HeldChild {
    private HeldChild() {}

    /**
     * What the command runs under.
     *
     * @param who the command's name in messages ({@code holdfast lock})
     * @param what what is held, for messages ({@code 'jobs/a'})
     * @param plural whether {@code what} is several things
     * @param environment the variables the child gets
     * @param release gives it back
     * @param onLost registers a listener for its loss
     */
    record Holding(
            String who,
            String what,
            boolean plural,
            Map<String, String> environment,
            Runnable release,
            Consumer<Consumer<? super LockLostException>> onLost) {}

    /**
     * What SIGTERM or SIGINT to this process does while something is held or awaited: a JVM shutdown
     * hook, registered by {@link #onSignal} and removed with {@link #remove} once the command's thread
     * is done with the client.
     *
     * <p>If a command runs, the hook stops it (SIGTERM, then SIGKILL after the grace); the command's
     * thread then sees it end and gives back what it held, and only after that (or after {@value
     * #GIVE_BACK_SECONDS} s) does the hook close the client. Closing it at once raced with that give-back,
     * which then failed with "the client was closed" on some Ctrl-Cs. If no command runs yet (still
     * waiting), the hook closes the client at once, which cancels the wait; the command then ends without a line of its own ({@link #fired}), with
     * the signal's exit code (130 or 143), as {@code flock(1)} does.
     */
    static final class SignalHook {
        /** How long the hook waits for the command's thread to give back what it held. */
        static final long GIVE_BACK_SECONDS = 5;

        private final Thread thread;
        private final CountDownLatch done = new CountDownLatch(1);
        private volatile boolean fired;

        private SignalHook(String name, LockClient client, AtomicReference<ChildProcess> child, Duration grace) {
            this.thread = new Thread(() -> onSignal(client, child, grace), name);
        }

        private void onSignal(LockClient client, AtomicReference<ChildProcess> child, Duration grace) {
            fired = true;
            ChildProcess running = child.get();
            if (running != null) {
                if (running.isAlive()) {
                    running.stop(grace);
                }
                try {
                    done.await(GIVE_BACK_SECONDS, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            client.close();
        }

        /**
         * Whether a signal ran the hook: a failure the command's thread sees afterwards (its wait
         * cancelled by the closed client) is the signal's doing, not an error to report.
         */
        boolean fired() {
            return fired;
        }

        /** Runs the hook on the calling thread, as the JVM would on a signal (for tests). */
        void runNow() {
            thread.run();
        }

        /**
         * The command's thread is done with the client (given back, or failed): lets a running hook
         * close it, and unregisters the hook if the JVM is not already shutting down.
         */
        void remove() {
            done.countDown();
            removeOnSignal(thread);
        }
    }

    /** Removes a shutdown hook unless the JVM is already shutting down (then the hook runs, as wanted). */
    static void removeOnSignal(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down: the hook runs, which is what we want.
        }
    }

    /**
     * Registers what SIGTERM or SIGINT to this process does while a command runs under a lease (see
     * {@link SignalHook}). Remove it with {@link SignalHook#remove} once the command's thread is done.
     */
    static SignalHook onSignal(String name, LockClient client, AtomicReference<ChildProcess> child, Duration grace) {
        SignalHook hook = new SignalHook(name, client, child, grace);
        Runtime.getRuntime().addShutdownHook(hook.thread);
        return hook;
    }

    /** Runs {@code command} under {@code held}; {@code child} is set to it once started. */
    static int run(
            Holding held, List<String> command, AtomicReference<ChildProcess> child, Duration grace, PrintWriter err)
            throws InterruptedException {
        ChildProcess running;
        try {
            running = ChildProcess.start(command, held.environment(), grace, held.who());
        } catch (CliFailure e) {
            try {
                held.release().run();
            } catch (RuntimeException releaseFailure) {
                e.addSuppressed(releaseFailure);
            }
            throw e;
        }
        child.set(running);
        AtomicBoolean lost = new AtomicBoolean();
        held.onLost().accept(e -> {
            if (lost.compareAndSet(false, true)) {
                err.println(held.who() + ": lost " + held.what() + " while the command ran (" + e.getMessage()
                        + "); stopping it");
                err.flush();
                running.stopInBackground(grace);
            }
        });
        int exit = running.waitFor();
        if (lost.get()) {
            return ExitCodes.LOCK_LOST;
        }
        try {
            held.release().run();
        } catch (LockLostException e) {
            err.println(held.who() + ": " + held.what() + (held.plural() ? " were" : " was") + " lost before "
                    + (held.plural() ? "they" : "it") + " could be released (" + e.getMessage()
                    + "); the command may have overlapped another holder");
            return ExitCodes.LOCK_LOST;
        } catch (UnavailableException e) {
            err.println(held.who() + ": could not release " + held.what() + " (" + e.getMessage()
                    + "); the backend frees it when this session expires");
        }
        return exit;
    }
}
