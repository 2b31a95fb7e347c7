package io.holdfast.server.node;

import io.holdfast.UnavailableException;
import io.holdfast.core.CommandCodec;
import io.holdfast.endpoint.frame.FrameWrites;
import io.holdfast.endpoint.frame.Gathering;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.server.raft.EntryCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Batches commands into Raft log entries: while entries are being replicated and made durable
 * ({@link #MAX_ENTRIES_IN_FLIGHT} at most), the requests that arrive queue up and go together in
 * the next one. Under load this turns many fsyncs into one, which is where a durable lock
 * service's throughput comes from.
 *
 * <p>When nothing is queued and an entry may still go out, a command is sent on the caller's own
 * thread, as an entry of one: a lone request then pays no hand-off to the batching thread (on a
 * small machine a context switch costs about as much as the fsync). Commands proposed
 * concurrently have no order between them; one caller's commands keep their order, because a
 * command only takes the direct path when none is queued.
 *
 * <p>Commands proposed inside a {@link FrameWrites} batch (the frame server's thread handling the
 * requests one wake-up read) are gathered and proposed together at its end, as one entry when
 * the direct path is open, else queued in their order: requests that arrived together go
 * together, without waking the batching thread and without an entry of one before the rest.
 */
final class Proposer implements AutoCloseable {
    private record Pending(byte[] command, CompletableFuture<Reply> reply) {}

    static final int MAX_COMMANDS_PER_ENTRY = 1024;
    /** Entries being replicated at once; fewer means larger batches. Tunable for measurements. */
    static final int MAX_ENTRIES_IN_FLIGHT = Integer.getInteger("holdfast.proposer.maxInFlight", 4);

    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>(100_000);
    private final Semaphore inFlight = new Semaphore(MAX_ENTRIES_IN_FLIGHT);
    /** Commands queued and not yet sent; the direct path is open only at zero. */
    private final AtomicInteger waiting = new AtomicInteger();
    /** Commands proposed together in a frame batch, proposed at its end (alone outside one). */
    private final Gathering<Pending> gathering = new Gathering<>(this::proposeAll);

    private final Function<byte[], CompletableFuture<byte[]>> submit;
    private final Thread thread;
    private volatile boolean closed;

    /**
     * @param submit writes one entry through Raft and returns its reply bytes, or fails with
     *     {@link UnavailableException} (not the leader, timed out)
     */
    Proposer(String name, Function<byte[], CompletableFuture<byte[]>> submit) {
        this.submit = submit;
        this.thread = DaemonThreads.thread(this::run, "holdfast-proposer-" + name);
        this.thread.start();
    }

    /** Queues a command in its envelope (its time and its sender's identity) for the log. */
    CompletableFuture<Reply> propose(Command.Envelope command) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        if (closed) {
            reply.completeExceptionally(new UnavailableException("the server is shutting down"));
            return reply;
        }
        Pending pending = new Pending(CommandCodec.encode(command), reply);
        gathering.add(pending);
        return reply;
    }

    /** Sends commands as one entry when nothing is queued and an entry may go out, else queues them in order. */
    private void proposeAll(List<Pending> commands) {
        if (closed) {
            failAll(commands);
            return;
        }
        if (commands.size() <= MAX_COMMANDS_PER_ENTRY && waiting.get() == 0 && inFlight.tryAcquire()) {
            send(commands);
            return;
        }
        for (Pending pending : commands) {
            waiting.incrementAndGet();
            if (!queue.offer(pending)) {
                waiting.decrementAndGet();
                pending.reply().completeExceptionally(new UnavailableException("the server is overloaded; try again"));
            }
        }
    }

    private void run() {
        List<Pending> batch = new ArrayList<>();
        while (!closed) {
            try {
                Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                inFlight.acquire();
                batch.add(first);
                queue.drainTo(batch, MAX_COMMANDS_PER_ENTRY - 1);
                send(new ArrayList<>(batch));
                waiting.addAndGet(-batch.size());
                batch.clear();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        failAll(batch);
        List<Pending> rest = new ArrayList<>();
        queue.drainTo(rest);
        failAll(rest);
    }

    private void send(List<Pending> batch) {
        List<byte[]> commands = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            commands.add(p.command());
        }
        CompletableFuture<byte[]> sent;
        try {
            sent = submit.apply(EntryCodec.encodeCommands(commands));
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        // One entry's answers go out together: one write per client connection, not two per answer.
        sent.whenComplete((bytes, error) -> FrameWrites.together(() -> answer(batch, bytes, error)));
    }

    private void answer(List<Pending> batch, byte[] bytes, Throwable error) {
        inFlight.release();
        if (error != null) {
            Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                    ? error.getCause()
                    : error;
            for (Pending p : batch) {
                p.reply().completeExceptionally(cause);
            }
            return;
        }
        List<Reply> replies = EntryCodec.decodeReplies(bytes, batch.size());
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).reply().complete(replies.get(i));
        }
    }

    private static void failAll(List<Pending> pending) {
        for (Pending p : pending) {
            p.reply().completeExceptionally(new UnavailableException("the server is shutting down"));
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
