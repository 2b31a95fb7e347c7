package io.holdfast.server.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.model.Event;
import io.holdfast.model.LockService;
import io.holdfast.model.NotLeaderException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Events reach their session's one subscriber, in the table's order; step-down ends them all. */
class EventRouterTest {
    private final EventRouter router = new EventRouter("n1");

    @AfterEach
    void close() {
        router.close();
    }

    @Test
    void eventsReachTheirSessionsSubscriberInTheOrderTheTableEmittedThem() {
        Recorder a = new Recorder();
        Recorder b = new Recorder();
        router.subscribe("a", a);
        router.subscribe("b", b);
        List<Event> expected = new ArrayList<>();
        for (int i = 1; i <= 500; i++) {
            Event forA = new Event.Granted("a", i, "lock", i);
            expected.add(forA);
            router.deliver(
                    List.of(forA, new Event.Granted("b", i, "lock", 1000 + i), new Event.Granted("c", i, "x", i)));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> a.events.size() == 500 && b.events.size() == 500);
        assertThat(a.events).containsExactlyElementsOf(expected);
        assertThat(b.events).allMatch(e -> e.sessionId().equals("b"));
    }

    @Test
    void aNewSubscriptionEndsTheOldOneAndAnUnsubscribedSessionHearsNothing() {
        Recorder old = new Recorder();
        Recorder fresh = new Recorder();
        router.subscribe("a", old);
        router.subscribe("a", fresh);
        router.deliver(List.of(new Event.SessionExpired("a")));
        await().atMost(Duration.ofSeconds(5)).until(() -> fresh.events.size() == 1);
        assertThat(old.ended).singleElement().satisfies(e -> assertThat(e).hasMessageContaining("replaced"));
        assertThat(old.events).isEmpty();

        router.unsubscribe("a");
        router.deliver(List.of(new Event.SessionExpired("a")));
        await().atMost(Duration.ofSeconds(5)).until(() -> drained());
        assertThat(fresh.events).hasSize(1);
    }

    @Test
    void endAllEndsEverySubscriptionOnceAndLaterEventsGoNowhere() {
        Recorder a = new Recorder();
        Recorder b = new Recorder();
        router.subscribe("a", a);
        router.subscribe("b", b);
        router.endAll(() -> new NotLeaderException("this node is no longer the leader", null));
        router.deliver(List.of(new Event.SessionExpired("a")));
        await().atMost(Duration.ofSeconds(5)).until(() -> a.ended.size() == 1 && b.ended.size() == 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> drained());
        assertThat(a.ended.get(0)).isInstanceOf(NotLeaderException.class);
        assertThat(a.events).isEmpty();
        router.endAll(() -> new NotLeaderException("again", null));
        await().atMost(Duration.ofSeconds(5)).until(() -> drained());
        assertThat(a.ended).hasSize(1);
    }

    /** True once everything handed to the delivery thread before this call has run. */
    private boolean drained() {
        java.util.concurrent.atomic.AtomicBoolean ran = new java.util.concurrent.atomic.AtomicBoolean();
        router.runInOrder(() -> ran.set(true));
        await().atMost(Duration.ofSeconds(5)).untilTrue(ran);
        return true;
    }

    private static final class Recorder implements LockService.Listener {
        final List<Event> events = new CopyOnWriteArrayList<>();
        final List<Throwable> ended = new CopyOnWriteArrayList<>();

        @Override
        public void onEvent(Event event) {
            events.add(event);
        }

        @Override
        public void onEnd(Throwable cause) {
            ended.add(cause);
        }
    }
}
