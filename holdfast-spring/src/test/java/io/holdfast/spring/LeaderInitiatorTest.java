package io.holdfast.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Election;
import io.holdfast.LockClient;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.spring.autoconfigure.HoldfastAutoConfiguration;
import io.holdfast.spring.leader.ClusterLeader;
import io.holdfast.spring.leader.HoldfastLeaderInitiator;
import io.holdfast.spring.leader.LeadershipEvent;
import io.holdfast.spring.leader.LeadershipGrantedEvent;
import io.holdfast.spring.leader.LeadershipRevokedEvent;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;

/**
 * {@link HoldfastLeaderInitiator} and {@code @ClusterLeader} in two real Spring contexts (two application nodes,
 * each with its own client and session) against a real Holdfast node.
 */
class LeaderInitiatorTest {
    private static final TestServer server = TestServer.shared();

    /** What the {@link Worker}s of both nodes did, in order. */
    static final ConcurrentLinkedQueue<String> timeline = new ConcurrentLinkedQueue<>();

    /** A leader bean declared by a {@code @Bean} method, that records its starts and stops. */
    static final class Worker implements SmartLifecycle {
        private final String node;
        private volatile boolean running;

        Worker(String node) {
            this.node = node;
        }

        @Override
        public boolean isAutoStartup() {
            return false;
        }

        @Override
        public void start() {
            timeline.add("start " + node);
            running = true;
        }

        @Override
        public void stop() {
            try {
                Thread.sleep(200); // draining its work: a successor that started now would overlap it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            running = false;
            timeline.add("stop " + node);
        }

        @Override
        public boolean isRunning() {
            return running;
        }

        @Override
        public int getPhase() {
            return 1;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class App {
        /** Not depending on the initiator, or the context would stop it before the initiator by itself. */
        @Bean
        @ClusterLeader
        Worker worker(@Value("${holdfast.leader.value}") String node) {
            return new Worker(node);
        }

        @Bean
        Events events() {
            return new Events();
        }
    }

    /** The leadership events one node saw. */
    static class Events {
        final List<LeadershipEvent> seen = new CopyOnWriteArrayList<>();

        @EventListener
        void on(LeadershipEvent event) {
            seen.add(event);
        }
    }

    @BeforeEach
    void reset() {
        timeline.clear();
    }

    private static ApplicationContextRunner node(String election, String value) {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(HoldfastAutoConfiguration.class))
                .withUserConfiguration(App.class)
                .withBean(OutboxRelay.class)
                .withPropertyValues(
                        "holdfast.uri=" + server.uri,
                        "holdfast.client-name=" + value,
                        "holdfast.leader.election=" + election,
                        "holdfast.leader.value=" + value);
    }

    @Test
    void onlyTheLeaderRunsItsBeansARevokedLeaderStopsThemAndTheOtherTakesOverWithAHigherEpoch() {
        String election = "spring/leader-revoked";
        node(election, "a")
                .run(a -> node(election, "b").run(b -> {
                    assertThat(a).hasNotFailed();
                    assertThat(b).hasNotFailed();
                    ApplicationContext leader = awaitTheOnlyLeader(a, b);
                    ApplicationContext follower = leader == a ? b : a;
                    long first = initiator(leader).leadership().orElseThrow().epoch();
                    assertThat(events(leader)).containsExactly("granted " + first);
                    assertThat(events(follower)).isEmpty();
                    try (LockClient observer = LockClient.open(server.uri)) {
                        assertThat(observer.election(election).leader())
                                .as("everyone sees who leads, and its epoch")
                                .contains(new Election.Leader(
                                        election, first, initiator(leader).getValue()));
                        assertThat(observer.admin().revoke(election)).isEqualTo(1);
                    }

                    Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                        assertThat(runs(leader))
                                .as("the deposed leader's beans")
                                .containsExactly(false, false);
                        assertThat(runs(follower)).as("the new leader's beans").containsExactly(true, true);
                    });
                    long second = initiator(follower).leadership().orElseThrow().epoch();
                    assertThat(second).as("the epoch rises").isGreaterThan(first);
                    Awaitility.await()
                            .atMost(Duration.ofSeconds(5))
                            .untilAsserted(() ->
                                    assertThat(events(leader)).containsExactly("granted " + first, "lost " + first));
                    assertThat(events(follower)).containsExactly("granted " + second);
                    assertThat(initiator(leader).isLeader()).isFalse();
                    assertThat(initiator(leader).isRunning())
                            .as("it campaigns again")
                            .isTrue();

                    // The node that lost campaigned again: it leads once the other resigns, as its context closes.
                    Events followerEvents = follower.getBean(Events.class);
                    ((ConfigurableApplicationContext) follower).close();
                    Awaitility.await()
                            .atMost(Duration.ofSeconds(10))
                            .untilAsserted(() -> assertThat(runs(leader)).containsExactly(true, true));
                    long third = initiator(leader).leadership().orElseThrow().epoch();
                    assertThat(third).isGreaterThan(second);
                    assertThat(events(followerEvents)).containsExactly("granted " + second, "resigned " + second);
                }));
    }

    @Test
    void aClosingContextStopsItsBeansBeforeItResignsSoTheNextStartsOnlyAfterThem() {
        String election = "spring/leader-closed";
        node(election, "a")
                .run(a -> node(election, "b").run(b -> {
                    ApplicationContext leader = awaitTheOnlyLeader(a, b);
                    ApplicationContext follower = leader == a ? b : a;
                    String from = initiator(leader).getValue();
                    String to = initiator(follower).getValue();
                    ((ConfigurableApplicationContext) leader).close();
                    Awaitility.await()
                            .atMost(Duration.ofSeconds(10))
                            .untilAsserted(() -> assertThat(runs(follower)).containsExactly(true, true));
                    assertThat(timeline)
                            .as("the old leader's bean stopped before the new one's started")
                            .containsExactly("start " + from, "stop " + from, "start " + to);
                }));
    }

    @Test
    void aLeaderWhoseClientIsClosedStopsItsBeansAndTheOtherLeads() {
        String election = "spring/leader-client-closed";
        node(election, "a")
                .run(a -> node(election, "b").run(b -> {
                    ApplicationContext leader = awaitTheOnlyLeader(a, b);
                    ApplicationContext follower = leader == a ? b : a;
                    long first = initiator(leader).leadership().orElseThrow().epoch();
                    leader.getBean(LockClient.class).close(); // no loss is reported: the leases are released
                    Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                        assertThat(runs(leader)).containsExactly(false, false);
                        assertThat(runs(follower)).containsExactly(true, true);
                    });
                    assertThat(initiator(follower).leadership().orElseThrow().epoch())
                            .isGreaterThan(first);
                    Awaitility.await()
                            .atMost(Duration.ofSeconds(5))
                            .untilAsserted(() ->
                                    assertThat(events(leader)).containsExactly("granted " + first, "lost " + first));
                }));
    }

    @Test
    void aLeaderWhoseSessionExpiresStopsItsBeansAtOnceAndTheOtherLeads() {
        String election = "spring/leader-session-ended";
        node(election, "a")
                .run(a -> node(election, "b").run(b -> {
                    ApplicationContext leader = awaitTheOnlyLeader(a, b);
                    ApplicationContext follower = leader == a ? b : a;
                    long first = initiator(leader).leadership().orElseThrow().epoch();
                    // What `holdfast sessions end` does: the service expires the session as if its heartbeats had
                    // stopped, and tells its client.
                    Reply ended = server.server
                            .lockService()
                            .submit(new Command.EndSession(
                                    leader.getBean(LockClient.class).sessionId()))
                            .get(10, TimeUnit.SECONDS);
                    assertThat(ended).isInstanceOf(Reply.Ok.class);
                    Awaitility.await()
                            .atMost(Duration.ofSeconds(3))
                            .alias("told by the service, the leader stops its beans without waiting for any TTL")
                            .untilAsserted(() -> assertThat(runs(leader)).containsExactly(false, false));
                    Awaitility.await()
                            .atMost(Duration.ofSeconds(10))
                            .untilAsserted(() -> assertThat(runs(follower)).containsExactly(true, true));
                    assertThat(initiator(follower).leadership().orElseThrow().epoch())
                            .isGreaterThan(first);
                    Awaitility.await()
                            .atMost(Duration.ofSeconds(5))
                            .untilAsserted(() ->
                                    assertThat(events(leader)).containsExactly("granted " + first, "lost " + first));
                }));
    }

    /** Waits until exactly one node runs its leader beans, and checks that the other runs none. */
    private static ApplicationContext awaitTheOnlyLeader(ApplicationContext a, ApplicationContext b) {
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> initiator(a).isLeader() || initiator(b).isLeader());
        ApplicationContext leader = initiator(a).isLeader() ? a : b;
        ApplicationContext follower = leader == a ? b : a;
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(runs(leader)).containsExactly(true, true));
        assertThat(runs(follower)).as("the follower runs nothing").containsExactly(false, false);
        assertThat(initiator(follower).isLeader()).isFalse();
        return leader;
    }

    private static HoldfastLeaderInitiator initiator(ApplicationContext context) {
        return context.getBean(HoldfastLeaderInitiator.class);
    }

    /** Whether the node's two leader beans run: the docs' OutboxRelay, and the Worker. */
    private static List<Boolean> runs(ApplicationContext context) {
        return List.of(
                context.getBean(OutboxRelay.class).isRunning(),
                context.getBean(Worker.class).isRunning());
    }

    private static List<String> events(ApplicationContext context) {
        return events(context.getBean(Events.class));
    }

    private static List<String> events(Events events) {
        return events.seen.stream()
                .map(e -> (e instanceof LeadershipGrantedEvent
                                ? "granted"
                                : ((LeadershipRevokedEvent) e).lost() ? "lost" : "resigned")
                        + " " + e.epoch())
                .toList();
    }
}
