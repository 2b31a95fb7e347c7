package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.holdfast.AcquireOptions;
import io.holdfast.ClientOptions;
import io.holdfast.GroupMembership;
import io.holdfast.KeyEntry;
import io.holdfast.Leadership;
import io.holdfast.Lease;
import io.holdfast.LockLostException;
import io.holdfast.PermissionDeniedException;
import io.holdfast.PutOptions;
import io.holdfast.QuotaExceededException;
import io.holdfast.RetryPolicy;
import io.holdfast.SessionExpiredException;
import io.holdfast.SessionListener;
import io.holdfast.UnavailableException;
import io.holdfast.client.MemProvider;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A client outlives its session (ADR 0004), in virtual time: the node and the clients run on the
 * testkit's {@link FakeTicker} and {@link ManualScheduler}, so a TTL passes when the test says. A
 * session is lost by refusing its heartbeats; the node expires it at the same TTL.
 */
class SessionRenewalTest {
    private static final Duration TTL = Duration.ofSeconds(2);
    private static final Duration SOON = Duration.ofSeconds(5);

    private final FakeTicker ticker = new FakeTicker();
    private final ManualScheduler timers = new ManualScheduler(ticker);
    private final LocalNode node = LocalNode.inVirtualTime("renewal", ticker, timers);
    private final List<ClientRuntime> clients = new ArrayList<>();

    @AfterEach
    void close() {
        clients.forEach(ClientRuntime::close);
        timers.shutdownNow();
    }

    private ClientRuntime open(Cuttable transport, UnaryOperator<ClientOptions.Builder> options) {
        ClientRuntime client = ClientRuntime.open(
                "mem",
                transport,
                options.apply(ClientOptions.builder()
                                .ticker(ticker)
                                .scheduler(timers)
                                .sessionTtl(TTL)
                                .retryPolicy(RetryPolicy.none()))
                        .build(),
                MemProvider.CAPABILITIES);
        clients.add(client);
        return client;
    }

    /** Records what a session listener hears, one line per call. */
    private static List<String> listen(ClientRuntime client) {
        List<String> heard = new CopyOnWriteArrayList<>();
        client.addSessionListener(new SessionListener() {
            @Override
            public void lost(String oldId, String cause) {
                heard.add("lost " + oldId + ": " + cause);
            }

            @Override
            public void reestablished(String newId) {
                heard.add("reestablished " + newId);
            }
        });
        return heard;
    }

    /** Records what a rejoin listener hears, one line per call ("rejoined M OWNER", "refused M HOLDER"). */
    private static List<String> rejoins(GroupMembership group) {
        List<String> rejoins = new CopyOnWriteArrayList<>();
        group.addRejoinListener(new GroupMembership.RejoinListener() {
            @Override
            public void rejoined(String member, KeyEntry entry) {
                rejoins.add("rejoined " + member + " " + entry.owner());
            }

            @Override
            public void rejoinFailed(String member, String holder) {
                rejoins.add("refused " + member + " " + holder);
            }
        });
        return rejoins;
    }

    /** Cuts the transport off (heartbeats and openings unanswered) and moves time past the TTL. */
    private void loseTheSession(Cuttable transport, List<String> heard) {
        transport.cut = true;
        timers.advance(TTL.plusMillis(200));
        await().atMost(SOON).until(() -> heard.stream().anyMatch(h -> h.startsWith("lost ")));
    }

    @Test
    void aLostSessionIsToldThenTheNextOneWithANewIdAndALostLeaseStaysLost() throws Exception {
        Cuttable transport = new Cuttable(new LocalTransport(node));
        ClientRuntime client = open(transport, o -> o);
        List<String> heard = listen(client);
        String first = client.sessionId();
        Lease lease = client.lock("jobs/a").acquire(Duration.ZERO);

        loseTheSession(transport, heard);
        assertThat(lease.isValid()).isFalse();
        assertThat(client.isOpen()).as("between two sessions").isTrue();
        transport.cut = false;
        timers.advance(Duration.ofSeconds(3)); // a try at most 2 s after the last
        await().atMost(SOON).until(() -> heard.size() == 2);

        String second = client.sessionId();
        assertThat(second).isNotEqualTo(first);
        assertThat(heard.get(0)).startsWith("lost " + first + ": ");
        assertThat(heard.get(1)).isEqualTo("reestablished " + second);
        assertThat(lease.isValid()).as("never taken again").isFalse();
        assertThatThrownBy(lease::checkValid).isInstanceOf(LockLostException.class);
        Lease again = client.lock("jobs/a").acquire(Duration.ZERO);
        assertThat(again.fencingToken()).isGreaterThan(lease.fencingToken());
        assertThat(lease.isValid()).isFalse();
    }

    @Test
    void aCallBetweenTwoSessionsWaitsWithinItsOwnTimeoutThenFailsNamingTheLoss() throws Exception {
        Cuttable transport = new Cuttable(new LocalTransport(node));
        ClientRuntime client = open(transport, o -> o);
        List<String> heard = listen(client);
        loseTheSession(transport, heard);

        CompletableFuture<Lease> acquire = client.lock("jobs/b").acquireAsync(Duration.ofSeconds(3));
        timers.advance(Duration.ofMillis(2999));
        assertThat(acquire).as("within its wait").isNotDone();
        timers.advance(Duration.ofMillis(1));
        await().atMost(SOON).until(acquire::isDone);
        Throwable failure = catchThrowable(acquire::get);
        assertThat(failure).isInstanceOf(ExecutionException.class);
        assertThat(failure.getCause())
                .isInstanceOf(UnavailableException.class)
                .hasMessageStartingWith("no session: the last was lost (")
                .hasMessageEndingWith("); opening a new one");

        // A put made between the two goes on under the next session once it is open.
        CompletableFuture<KeyEntry> put = CompletableFuture.supplyAsync(() -> client.keys()
                .put(
                        "config/x",
                        "1".getBytes(StandardCharsets.UTF_8),
                        PutOptions.ifAbsent().attach()));
        transport.cut = false;
        await().atMost(SOON).until(() -> {
            timers.advance(Duration.ofMillis(500));
            return put.isDone();
        });
        assertThat(put.get().owner()).isEqualTo(client.sessionId());
        await().atMost(SOON).until(() -> heard.size() == 2);
        assertThat(heard.get(1)).isEqualTo("reestablished " + client.sessionId());
    }

    /**
     * The service refuses the next session for the client's credentials: a call between two
     * sessions that fails names that refusal, as the last try's failure, beside the loss; the tries
     * go on, and once a session opens the calls are served again.
     */
    @Test
    void aCallBetweenTwoSessionsNamesTheLastTrysFailure() throws Exception {
        Cuttable transport = new Cuttable(new LocalTransport(node));
        ClientRuntime client = open(transport, o -> o);
        List<String> heard = listen(client);
        loseTheSession(transport, heard);
        int before = transport.opensAt.size();
        transport.deny = true;
        transport.cut = false;
        await().atMost(SOON).until(() -> {
            timers.advance(Duration.ofMillis(500));
            return transport.opensAt.size() > before + 1; // a refused try, and the next begun
        });

        CompletableFuture<Lease> acquire = client.lock("jobs/c").acquireAsync(Duration.ofSeconds(1));
        timers.advance(Duration.ofSeconds(1));
        await().atMost(SOON).until(acquire::isDone);
        Throwable failure = catchThrowable(acquire::get);
        assertThat(failure.getCause())
                .isInstanceOf(UnavailableException.class)
                .hasMessageStartingWith("no session: the last was lost (")
                .hasMessageContaining("; the last try to open another: the bearer token's key 'a' is not in the JWKS")
                .hasMessageEndingWith("); opening a new one");

        transport.deny = false;
        await().atMost(SOON).until(() -> {
            timers.advance(Duration.ofMillis(500));
            return heard.size() == 2;
        });
        assertThat(client.lock("jobs/c").acquire(Duration.ZERO).fencingToken()).isPositive();
    }

    @Test
    void theTriesBackOffFrom100MsDoublingUpTo2sWithFullJitter() {
        Cuttable transport = new Cuttable(new LocalTransport(node));
        ClientRuntime client = open(transport, o -> o);
        List<String> heard = listen(client);
        loseTheSession(transport, heard);

        timers.advance(Duration.ofMinutes(3));
        List<Long> tries = List.copyOf(transport.opensAt);
        assertThat(tries).as("tries in three minutes").hasSizeBetween(18, 3 * 60 * 1000);
        long previous = tries.get(0);
        for (int i = 1; i < tries.size(); i++) {
            long cap = i >= 5 ? 2_000L : 100L << i;
            assertThat(tries.get(i) - previous)
                    .as("pause before try %d", i + 1)
                    .isBetween(1L, TimeUnit.MILLISECONDS.toNanos(cap));
            previous = tries.get(i);
        }
        assertThat(client.isOpen()).isTrue();
    }

    @Test
    void withoutRenewalTheClientEndsWithItsSession() {
        Cuttable transport = new Cuttable(new LocalTransport(node));
        ClientRuntime client = open(transport, o -> o.renewSessions(false));
        List<String> heard = listen(client);
        loseTheSession(transport, heard);
        transport.cut = false;
        timers.advance(Duration.ofMinutes(1));

        assertThat(client.isOpen()).isFalse();
        assertThat(transport.opensAt).as("no session asked for after the first").isEmpty();
        assertThat(heard).hasSize(1);
        assertThatThrownBy(() -> client.lock("jobs/c").acquire(Duration.ZERO))
                .isInstanceOf(SessionExpiredException.class);
    }

    @Test
    void aMemberIsJoinedAgainUnderTheNextSessionUnlessAnotherSessionTookTheName() {
        Cuttable transport = new Cuttable(new LocalTransport(node));
        ClientRuntime client = open(transport, o -> o);
        List<String> heard = listen(client);
        GroupMembership web = client.group("services/web");
        List<String> rejoins = rejoins(web);
        web.join("i-1", "10.0.0.1".getBytes(StandardCharsets.UTF_8));
        web.join("i-2", "10.0.0.2".getBytes(StandardCharsets.UTF_8));
        loseTheSession(transport, heard);
        timers.advance(Duration.ofSeconds(1)); // the node has expired the lost session and its keys
        ClientRuntime other = open(new Cuttable(new LocalTransport(node)), o -> o);
        other.group("services/web").join("i-2", "elsewhere".getBytes(StandardCharsets.UTF_8));

        transport.cut = false;
        await().atMost(SOON).until(() -> {
            timers.advance(Duration.ofMillis(500));
            return rejoins.size() == 2;
        });
        assertThat(rejoins)
                .containsExactlyInAnyOrder("rejoined i-1 " + client.sessionId(), "refused i-2 " + other.sessionId());
        assertThat(new String(web.members().get("i-1").value(), StandardCharsets.UTF_8))
                .isEqualTo("10.0.0.1");
        assertThat(web.members().get("i-2").owner()).as("never taken over").isEqualTo(other.sessionId());
    }

    /**
     * A rejoin that met a failure outside the few it expected ended unseen, and the member stayed
     * out for the whole session (found reading the clients after stop 90's CI, where a member stayed
     * out 23 s under its new session). Here the first write of the rejoin is refused
     * with a quota (a refusal that passes once keys are freed): it is tried again and the member
     * is back, and a rejoin listener that throws stops neither the others nor the member.
     */
    @Test
    void aRejoinRefusedForNowIsTriedAgainAndAThrowingListenerStopsNothing() {
        Cuttable transport = new Cuttable(new LocalTransport(node));
        ClientRuntime client = open(transport, o -> o);
        List<String> heard = listen(client);
        GroupMembership web = client.group("services/web");
        web.addRejoinListener((member, holder) -> {
            throw new IllegalStateException("a listener's own bug (test)");
        });
        List<String> rejoins = rejoins(web);
        web.join("i-1", "10.0.0.1".getBytes(StandardCharsets.UTF_8));
        loseTheSession(transport, heard);
        transport.refuseWrites = 1;

        transport.cut = false;
        await().atMost(SOON).until(() -> {
            timers.advance(Duration.ofMillis(500));
            return !rejoins.isEmpty();
        });
        assertThat(transport.refused).as("the refusal was met").isEqualTo(1);
        assertThat(rejoins).containsExactly("rejoined i-1 " + client.sessionId());
        assertThat(web.members().get("i-1").owner()).isEqualTo(client.sessionId());
    }

    @Test
    void aCampaignUnderWayCampaignsAgainUnderTheNextSession() throws Exception {
        ClientRuntime leader = open(new Cuttable(new LocalTransport(node)), o -> o);
        Leadership held = leader.election("reports").campaign("a", AcquireOptions.waitUpTo(Duration.ZERO));
        Cuttable transport = new Cuttable(new LocalTransport(node));
        ClientRuntime candidate = open(transport, o -> o);
        List<String> heard = listen(candidate);
        CompletableFuture<Leadership> campaign = CompletableFuture.supplyAsync(() -> {
            try {
                return candidate.election("reports").campaign("b", AcquireOptions.waitUpTo(Duration.ofMinutes(5)));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(SOON).until(() -> waiters(leader, "reports") == 1);

        loseTheSession(transport, heard);
        transport.cut = false;
        await().atMost(SOON).until(() -> {
            timers.advance(Duration.ofMillis(500));
            return heard.size() == 2 && waiters(leader, "reports") == 1;
        });
        assertThat(campaign).as("still campaigning, under the next session").isNotDone();
        held.resign();
        Leadership won = campaign.get(10, TimeUnit.SECONDS);
        assertThat(won.epoch()).isGreaterThan(held.epoch());
        assertThat(won.lease().fencingToken()).isEqualTo(won.epoch());
        assertThat(leader.admin()
                        .describe("reports")
                        .orElseThrow()
                        .holders()
                        .get(0)
                        .sessionId())
                .isEqualTo(candidate.sessionId());
    }

    private static int waiters(ClientRuntime client, String lock) {
        return client.admin().describe(lock).map(info -> info.waiters().size()).orElse(0);
    }

    /** Leaves heartbeats and openings of sessions unanswered while cut; records when sessions are asked for. */
    private final class Cuttable extends ForwardingLockService {
        volatile boolean cut;
        /** Session opens refused for the client's credentials (a key rotated out of the JWKS). */
        volatile boolean deny;
        /** How many writes of keys to refuse with a quota from now on. */
        volatile int refuseWrites;
        /** How many were refused. */
        volatile int refused;
        /** When a session was asked for after the first, on the test's clock. */
        final List<Long> opensAt = new CopyOnWriteArrayList<>();

        private boolean opened;

        Cuttable(LockService delegate) {
            super(delegate);
        }

        @Override
        public CompletableFuture<Reply> keepAlive(String sessionId, Duration timeout) {
            return cut
                    ? CompletableFuture.failedFuture(new UnavailableException("cut off (test)"))
                    : delegate.keepAlive(sessionId, timeout);
        }

        @Override
        public CompletableFuture<Reply> submit(Command command) {
            if (command instanceof Command.OpenSession) {
                if (opened) {
                    opensAt.add(ticker.nanos());
                }
                opened = true;
                if (cut) {
                    return CompletableFuture.failedFuture(new UnavailableException("cut off (test)"));
                }
                if (deny) {
                    return CompletableFuture.failedFuture(
                            new PermissionDeniedException("the bearer token's key 'a' is not in the JWKS (test)"));
                }
            }
            if (command instanceof io.holdfast.model.RegisterSet && refuseWrites > 0) {
                refuseWrites--;
                refused++;
                return CompletableFuture.failedFuture(
                        new QuotaExceededException("the identity's keys quota is full (test)"));
            }
            return delegate.submit(command);
        }
    }
}
