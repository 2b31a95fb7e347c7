package io.holdfast.server.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.CommandCodec;
import io.holdfast.endpoint.frame.FrameWrites;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.server.raft.EntryCodec;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The proposer's entries: commands proposed inside one {@link FrameWrites} batch (the frames one
 * wake-up of the client port read) go as one entry, in their order; a lone command outside a
 * batch goes at once as an entry of one.
 */
class ProposerTest {
    /** An entry handed to Raft, and what completes it. */
    private record Sent(List<byte[]> commands, CompletableFuture<byte[]> done) {
        void answerAllOk() {
            done.complete(EntryCodec.encodeReplies(Collections.nCopies(commands.size(), Reply.Ok.INSTANCE)));
        }
    }

    private final List<Sent> sent = new CopyOnWriteArrayList<>();
    private final Proposer proposer = new Proposer("test", entry -> {
        CompletableFuture<byte[]> done = new CompletableFuture<>();
        sent.add(new Sent(commands(entry), done));
        return done;
    });

    @AfterEach
    void close() {
        proposer.close();
    }

    private static Command.Envelope release(int n) {
        return new Command.Envelope(
                1_000L, null, new Command.Release(new Command.Invocation("session-" + n, 1, n), "orders/" + n, n));
    }

    private static List<byte[]> commands(byte[] entry) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(entry))) {
            int count = in.readInt();
            List<byte[]> commands = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                commands.add(in.readNBytes(in.readInt()));
            }
            return commands;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void commandsProposedInOneBatchGoAsOneEntryInTheirOrder() throws Exception {
        List<CompletableFuture<Reply>> replies = new ArrayList<>();
        FrameWrites.together(() -> {
            for (int i = 0; i < 5; i++) {
                replies.add(proposer.propose(release(i)));
            }
            assertThat(sent).as("nothing is sent before the batch ends").isEmpty();
        });
        assertThat(sent).hasSize(1);
        assertThat(sent.get(0).commands()).hasSize(5);
        for (int i = 0; i < 5; i++) {
            assertThat(sent.get(0).commands().get(i)).isEqualTo(CommandCodec.encode(release(i)));
        }
        sent.get(0).answerAllOk();
        for (CompletableFuture<Reply> reply : replies) {
            assertThat(reply.get(5, TimeUnit.SECONDS)).isEqualTo(Reply.Ok.INSTANCE);
        }
    }

    @Test
    void aLoneCommandOutsideABatchGoesAtOnceAsAnEntryOfOne() throws Exception {
        CompletableFuture<Reply> reply = proposer.propose(release(1));
        assertThat(sent).hasSize(1);
        assertThat(sent.get(0).commands()).hasSize(1);
        sent.get(0).answerAllOk();
        assertThat(reply.get(5, TimeUnit.SECONDS)).isEqualTo(Reply.Ok.INSTANCE);
    }

    @Test
    void aBatchThatFindsNoEntryFreeIsQueuedInOrderAndGoesTogetherWhenOneIs() throws Exception {
        for (int i = 0; i < Proposer.MAX_ENTRIES_IN_FLIGHT; i++) {
            proposer.propose(release(100 + i));
        }
        assertThat(sent).hasSize(Proposer.MAX_ENTRIES_IN_FLIGHT);
        List<CompletableFuture<Reply>> replies = new ArrayList<>();
        FrameWrites.together(() -> {
            for (int i = 0; i < 3; i++) {
                replies.add(proposer.propose(release(i)));
            }
        });
        assertThat(sent).as("no entry may go out yet").hasSize(Proposer.MAX_ENTRIES_IN_FLIGHT);
        sent.get(0).answerAllOk();
        Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> sent.size() == Proposer.MAX_ENTRIES_IN_FLIGHT + 1);
        Sent queued = sent.get(Proposer.MAX_ENTRIES_IN_FLIGHT);
        assertThat(queued.commands()).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(queued.commands().get(i)).isEqualTo(CommandCodec.encode(release(i)));
        }
        queued.answerAllOk();
        for (CompletableFuture<Reply> reply : replies) {
            assertThat(reply.get(5, TimeUnit.SECONDS)).isEqualTo(Reply.Ok.INSTANCE);
        }
    }
}
