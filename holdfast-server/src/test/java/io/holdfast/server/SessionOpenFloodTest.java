package io.holdfast.server;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.QuotaExceededException;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A flood of session opens at the leader: past the bound of opens waiting for the log, each is
 * refused at once with QUOTA_EXCEEDED (HTTP 429), none of the refused ones opens a session, and a
 * session opened before the flood has its heartbeats acknowledged throughout.
 */
class SessionOpenFloodTest {
    private static final int FLOOD = 5_000;

    @Test
    void aFloodOfOpensIsRefusedPastTheBoundWhileAnOpenSessionIsServed() throws Exception {
        try (TestCluster cluster = new TestCluster(1)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            LockService service = cluster.node(leader).parts().service();
            assertThat(service.submit(new Command.OpenSession("steady-session-0001", "steady", 30_000, 0))
                            .get(10, SECONDS))
                    .isEqualTo(Reply.Ok.INSTANCE);

            List<CompletableFuture<Reply>> opens = new ArrayList<>();
            List<CompletableFuture<Reply>> heartbeats = new ArrayList<>();
            for (int i = 0; i < FLOOD; i++) {
                opens.add(service.submit(new Command.OpenSession("flood-session-" + (100000 + i), "flood", 30_000, 0)));
                if (i % 500 == 0) {
                    heartbeats.add(service.keepAlive("steady-session-0001"));
                }
            }
            AtomicInteger opened = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            List<String> other = new ArrayList<>();
            for (CompletableFuture<Reply> f : opens) {
                try {
                    Reply r = f.get(60, SECONDS);
                    if (r instanceof Reply.Ok) {
                        opened.incrementAndGet();
                    } else {
                        other.add(String.valueOf(r));
                    }
                } catch (ExecutionException | CompletionException e) {
                    if (e.getCause() instanceof QuotaExceededException q) {
                        assertThat(q.getMessage())
                                .contains("session opens waiting for the log")
                                .doesNotContain("\n");
                        refused.incrementAndGet();
                    } else {
                        other.add(String.valueOf(e.getCause()));
                    }
                }
            }
            for (CompletableFuture<Reply> h : heartbeats) {
                assertThat(h.get(10, SECONDS))
                        .as("a heartbeat during the flood")
                        .isEqualTo(Reply.Ok.INSTANCE);
            }
            assertThat(other).as("answers other than opened or refused").isEmpty();
            assertThat(refused.get()).as("opens refused past the bound").isPositive();
            assertThat(opened.get()).as("opens let through").isGreaterThanOrEqualTo(1_000);
            assertThat(opened.get() + refused.get()).isEqualTo(FLOOD);
            int sessions = cluster.node(leader).parts().machine().read(t -> t.sessionCount());
            assertThat(sessions)
                    .as("the sessions in the table: the steady one and each open let through")
                    .isEqualTo(opened.get() + 1);
            // The bound is given back: an open after the flood goes through.
            assertThat(service.submit(new Command.OpenSession("after-the-flood-0001", "after", 30_000, 0))
                            .get(10, SECONDS))
                    .isEqualTo(Reply.Ok.INSTANCE);
        }
    }
}
