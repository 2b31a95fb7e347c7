package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link SessionTracker}: deadlines moved by heartbeats, what expires, and what it costs the leader. */
class SessionTrackerTest {
    private static final long TTL = 10_000;

    private final SessionTracker tracker = new SessionTracker();

    @Test
    void aHeartbeatMovesTheDeadlineAndAnExpiredSessionIsAskedAgainAfterItsTtl() {
        String bits = "Zm9yLWhvbGRmYXN0LTY5IQ";
        String text = "session-aaaaaaaaaa";
        tracker.touch(bits, TTL, 0);
        tracker.touch(text, 2 * TTL, 0);
        assertThat(tracker.nextDeadline()).isEqualTo(TTL);
        assertThat(tracker.touch(bits, 5_000)).isTrue();
        assertThat(tracker.touch("never-opened-session", 5_000)).isFalse();
        assertThat(tracker.deadline(bits)).isEqualTo(15_000);
        assertThat(tracker.nextDeadline()).isEqualTo(15_000);
        assertThat(tracker.expired(14_999)).isEmpty();
        assertThat(tracker.expired(20_000)).containsExactlyInAnyOrder(bits, text);
        assertThat(tracker.deadline(bits)).as("asked again a TTL later").isEqualTo(30_000);
        assertThat(tracker.deadline(text)).isEqualTo(40_000);
        tracker.remove(bits);
        assertThat(tracker.contains(bits)).isFalse();
        assertThat(tracker.deadline(bits)).isEqualTo(Long.MIN_VALUE);
        assertThat(tracker.size()).isEqualTo(1);
        tracker.reset(Map.of(bits, TTL), 100);
        assertThat(tracker.contains(text)).isFalse();
        assertThat(tracker.nextDeadline()).isEqualTo(100 + TTL);
        tracker.reset(Map.of(), 0);
        assertThat(tracker.nextDeadline()).isEqualTo(Long.MAX_VALUE);
    }

    /** A zero TTL (the table opens none: its least is above) is neither looped on nor lost. */
    @Test
    void aZeroTtlIsNamedOncePerCall() {
        tracker.touch("session-aaaaaaaaaa", 0, 0);
        assertThat(tracker.expired(0)).containsExactly("session-aaaaaaaaaa");
        assertThat(tracker.expired(0)).containsExactly("session-aaaaaaaaaa");
    }

    /** Random heartbeats, removals and expiries against a map of deadlines. */
    @Test
    void theTrackerAgreesWithAMapOfDeadlines() {
        Random random = new Random(5);
        String[] ids = new String[300];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i % 2 == 0 ? SessionFootprintTest.newId(random) : "session-" + i + "-aaaaaaaaaa";
        }
        Map<String, long[]> model = new HashMap<>(); // id -> {deadline, ttl}
        long now = 0;
        for (int step = 0; step < 30_000; step++) {
            String id = ids[random.nextInt(ids.length)];
            switch (random.nextInt(4)) {
                case 0 -> {
                    long ttl = 1 + random.nextInt(50);
                    tracker.touch(id, ttl, now);
                    model.put(id, new long[] {now + ttl, ttl});
                }
                case 1 -> {
                    long[] m = model.get(id);
                    assertThat(tracker.touch(id, now)).isEqualTo(m != null);
                    if (m != null) {
                        m[0] = now + m[1];
                    }
                }
                case 2 -> {
                    tracker.remove(id);
                    model.remove(id);
                }
                default -> {
                    now += random.nextInt(20);
                    long at = now;
                    List<String> expected = model.entrySet().stream()
                            .filter(e -> e.getValue()[0] <= at)
                            .map(Map.Entry::getKey)
                            .toList();
                    assertThat(tracker.expired(now)).containsExactlyInAnyOrderElementsOf(expected);
                    expected.forEach(e -> model.get(e)[0] = at + model.get(e)[1]);
                }
            }
            assertThat(tracker.size()).isEqualTo(model.size());
            assertThat(tracker.deadline(id)).isEqualTo(model.containsKey(id) ? model.get(id)[0] : Long.MIN_VALUE);
            assertThat(tracker.nextDeadline())
                    .isEqualTo(
                            model.values().stream().mapToLong(m -> m[0]).min().orElse(Long.MAX_VALUE));
        }
    }

    /**
     * The leader tracks every session of the cell: 50,000 sessions with 22-character ids, opened
     * and then three heartbeats each, every id a fresh string as a request brings it. A queue of
     * (deadline, id) entries kept 447 bytes per session then (169 just opened).
     */
    @Test
    void aTrackedSessionCostsTheLeaderUnder100BytesWhateverItsHeartbeats() {
        int n = 50_000;
        long base = usedAfterGc();
        for (int round = 0; round <= 3; round++) {
            Random random = new Random(17);
            for (int i = 0; i < n; i++) {
                String id = SessionFootprintTest.newId(random);
                if (round == 0) {
                    tracker.touch(id, 10_000_000_000L, 0);
                } else {
                    assertThat(tracker.touch(id, round * 3_000_000_000L)).isTrue();
                }
            }
        }
        double perSession = (usedAfterGc() - base) / (double) n;
        assertThat(tracker.size()).isEqualTo(n);
        assertThat(perSession).as("heap bytes per tracked session").isLessThan(100);
        Reference.reachabilityFence(tracker);
    }

    private static long usedAfterGc() {
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            least = Math.min(
                    least,
                    ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return least;
    }
}
