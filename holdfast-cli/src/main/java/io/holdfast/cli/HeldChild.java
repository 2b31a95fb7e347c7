package io.holdfast.cli;

import io.holdfast.LockClient;
import io.holdfast.LockLostException;
import io.holdfast.UnavailableException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
     * Registers what SIGTERM or SIGINT to this process does while a command runs under a lease:
     * stop the command (SIGTERM, then SIGKILL after {@code grace}), then close the client, which
     * gives the lease back. Remove it with {@link #removeOnSignal} once the command is done.
     */
    static Thread onSignal(String name, LockClient client, AtomicReference<ChildProcess> child, Duration grace) {
        Thread hook = new Thread(
                () -> {
                    ChildProcess running = child.get();
                    if (running != null && running.isAlive()) {
                        running.stop(grace);
                    }
                    client.close();
                },
                name);
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    /** Removes a hook of {@link #onSignal}. */
    static void removeOnSignal(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down: the hook runs, which is what we want.
        }
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
