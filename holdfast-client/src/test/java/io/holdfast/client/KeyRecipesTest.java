package io.holdfast.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.ConflictException;
import io.holdfast.DoubleBarrier;
import io.holdfast.GroupMembership;
import io.holdfast.InvalidArgumentException;
import io.holdfast.KeyEntry;
import io.holdfast.LockClient;
import io.holdfast.Watch;
import io.holdfast.internal.CrashSimulation;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The recipes on keys ({@link GroupMembership}, {@link DoubleBarrier}) on {@code mem:}. */
class KeyRecipesTest {
    private static final String URI = "mem:key-recipes";
    private final List<LockClient> clients = new ArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final String run = "recipes/" + UUID.randomUUID().toString().substring(0, 8);

    private LockClient open() {
        LockClient c = LockClient.open(
                URI, ClientOptions.builder().sessionTtl(Duration.ofSeconds(1)).build());
        clients.add(c);
        return c;
    }

    @AfterEach
    void closeAll() {
        threads.shutdownNow();
        clients.forEach(LockClient::close);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aGroupListsItsLiveMembersAndAWatcherSeesACrashedOneGo() {
        String group = run + "/services/web";
        LockClient one = open();
        LockClient two = open();
        one.group(group).join("i-1", bytes("10.0.0.1:80"));
        two.group(group).join("i-2", bytes("10.0.0.2:80"));
        GroupMembership seen = open().group(group);
        assertThat(seen.members()).containsOnlyKeys("i-1", "i-2");
        assertThat(seen.members().get("i-1").text()).isEqualTo("10.0.0.1:80");
        assertThat(seen.members().get("i-2").owner()).isEqualTo(two.sessionId());

        AtomicReference<SortedMap<String, KeyEntry>> latest = new AtomicReference<>();
        try (Watch ignored = seen.watch(latest::set)) {
            await().atMost(20, TimeUnit.SECONDS)
                    .until(() -> latest.get() != null && latest.get().size() == 2);
            CrashSimulation.crash(two);
            await().atMost(20, TimeUnit.SECONDS)
                    .until(() -> latest.get().keySet().equals(java.util.Set.of("i-1")));
        }
        assertThat(seen.members()).containsOnlyKeys("i-1");
    }

    @Test
    void aMemberNameBelongsToOneSessionAtATime() {
        String group = run + "/workers";
        LockClient one = open();
        GroupMembership mine = one.group(group);
        assertThat(mine.join("w", bytes("a")).version()).isEqualTo(1);
        assertThat(mine.join("w", bytes("b")).version())
                .as("joined again: the value written")
                .isEqualTo(2);
        GroupMembership theirs = open().group(group);
        assertThatThrownBy(() -> theirs.join("w", bytes("c")))
                .isInstanceOf(ConflictException.class)
                .hasMessageContaining(one.sessionId());
        assertThat(theirs.leave("w")).as("not theirs to leave").isFalse();
        assertThatThrownBy(() -> mine.join("a/b", bytes("x"))).isInstanceOf(InvalidArgumentException.class);
        assertThat(mine.leave("w")).isTrue();
        assertThat(theirs.members()).isEmpty();
        assertThat(theirs.join("w", bytes("c")).owner()).as("free again").isNotEqualTo(one.sessionId());
        one.keys().put(group + "/plain", bytes("written without attach"));
        assertThatThrownBy(() -> mine.join("plain", bytes("x")))
                .as("a key of no session is no member's to take")
                .isInstanceOf(ConflictException.class)
                .hasMessage("member plain of group " + group + " is held by no session");
    }

    @Test
    void aDoubleBarrierLetsEveryoneInTogetherAndOutTogether() throws Exception {
        String name = run + "/round-1";
        List<CompletableFuture<Boolean>> entered = new ArrayList<>();
        List<DoubleBarrier> barriers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            DoubleBarrier b = open().doubleBarrier(name, 3);
            barriers.add(b);
            if (i < 2) {
                entered.add(enter(b));
            }
        }
        assertThatThrownBy(() -> entered.get(0).get(200, TimeUnit.MILLISECONDS))
                .as("two of three in: neither passes")
                .isInstanceOf(TimeoutException.class);
        assertThat(entered.get(1)).isNotDone();
        entered.add(enter(barriers.get(2)));
        for (CompletableFuture<Boolean> e : entered) {
            assertThat(e.get(5, TimeUnit.SECONDS)).isTrue();
        }

        List<CompletableFuture<Boolean>> left = new ArrayList<>();
        left.add(CompletableFuture.supplyAsync(() -> leave(barriers.get(0)), threads));
        assertThatThrownBy(() -> left.get(0).get(200, TimeUnit.MILLISECONDS))
                .as("one of three out: it waits for the others")
                .isInstanceOf(TimeoutException.class);
        left.add(CompletableFuture.supplyAsync(() -> leave(barriers.get(1)), threads));
        left.add(CompletableFuture.supplyAsync(() -> leave(barriers.get(2)), threads));
        for (CompletableFuture<Boolean> l : left) {
            assertThat(l.get(5, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(open().keys().list(name + "/").entries())
                .as("nothing left behind")
                .isEmpty();
    }

    @Test
    void aPartyThatGivesUpEnteringLeavesNoTrace() throws Exception {
        String name = run + "/round-2";
        DoubleBarrier alone = open().doubleBarrier(name, 2);
        assertThat(alone.enter(Duration.ofMillis(200))).isFalse();
        assertThat(open().keys().list(name + "/").entries()).isEmpty();
    }

    private CompletableFuture<Boolean> enter(DoubleBarrier b) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return b.enter(Duration.ofSeconds(10));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                },
                threads);
    }

    private static boolean leave(DoubleBarrier b) {
        try {
            return b.leave(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
