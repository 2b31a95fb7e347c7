package io.holdfast.core;

import static io.holdfast.LockMode.EXCLUSIVE;
import static io.holdfast.WatchEvent.Cause.RELEASED;
import static io.holdfast.WatchEvent.acquired;
import static io.holdfast.WatchEvent.registerSet;
import static io.holdfast.WatchEvent.released;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.WatchEvent;
import io.holdfast.WatchTarget;
import io.holdfast.model.ChangePage;
import io.holdfast.model.ChangePosition;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * {@link ChangeLog}: changes kept by log position, read from a position in order and by target,
 * and every way it cannot answer (no position, a snapshot, eviction by count or by value bytes)
 * reported as a gap, never as fewer changes.
 */
class ChangeLogTest {
    private static final String S = "session-a-0123456789";
    private static final WatchTarget X = WatchTarget.lock("jobs/x");
    private static final WatchTarget JOBS = WatchTarget.prefix("jobs/");

    private final ChangeLog log = new ChangeLog();

    private static WatchEvent got(String name, long token) {
        return acquired(name, S, token, EXCLUSIVE);
    }

    private static ChangePosition at(long index, int ordinal) {
        return new ChangePosition(index, ordinal);
    }

    @Test
    void eachChangeStandsAtThePositionRightAfterIt() {
        log.append(1, List.of(got("jobs/x", 1), released("jobs/x", S, 1, EXCLUSIVE, RELEASED)));
        log.append(2, List.of());
        log.append(3, List.of(got("jobs/x", 2)));

        ChangePage page = log.read(X, ChangePosition.START);

        assertThat(page.gap()).isFalse();
        assertThat(page.events())
                .containsExactly(
                        got("jobs/x", 1).at("1.1"),
                        released("jobs/x", S, 1, EXCLUSIVE, RELEASED).at("1.2"),
                        got("jobs/x", 2).at("3.1"));
        assertThat(page.next()).isEqualTo(at(4, 0)).isEqualTo(log.appended());
        assertThat(ChangePosition.parse("3.1")).isEqualTo(at(3, 1));
        assertThat(at(3, 1).toString()).isEqualTo("3.1");
        assertThat(at(3, 1)).isLessThan(at(4, 0)).isGreaterThan(at(2, 7));
        assertThat(List.of("", "3", ".1", "3.", "-1.0", "1.-1", "a.b"))
                .allSatisfy(t -> assertThat(ChangePosition.parse(t)).as(t).isNull());
        assertThat(ChangePosition.parse(null)).isNull();
    }

    @Test
    void aReadFromAPositionReturnsOnlyLaterChangesOfItsTarget() {
        log.append(1, List.of(got("jobs/x", 1), got("jobs/y", 2), got("other", 3)));
        log.append(
                2, List.of(registerSet("jobs/x", S, 1, new byte[] {1}), released("jobs/x", S, 1, EXCLUSIVE, RELEASED)));

        assertThat(log.read(X, at(1, 1)).events())
                .as("after the first change")
                .containsExactly(released("jobs/x", S, 1, EXCLUSIVE, RELEASED).at("2.2"));
        assertThat(log.read(JOBS, at(1, 1)).events())
                .as("a prefix: its locks, not the register of the same name")
                .containsExactly(
                        got("jobs/y", 2).at("1.2"),
                        released("jobs/x", S, 1, EXCLUSIVE, RELEASED).at("2.2"));
        assertThat(log.read(WatchTarget.prefix(""), ChangePosition.START).events())
                .hasSize(4);
        assertThat(log.read(WatchTarget.register("jobs/x"), ChangePosition.START)
                        .events())
                .as("a register: only its writes")
                .containsExactly(registerSet("jobs/x", S, 1, new byte[] {1}).at("2.1"));
        assertThat(log.read(WatchTarget.register("jobs/y"), ChangePosition.START)
                        .events())
                .isEmpty();

        ChangePage caughtUp = log.read(X, at(2, 2));
        assertThat(caughtUp.events()).isEmpty();
        assertThat(caughtUp.gap()).isFalse();
        assertThat(caughtUp.next()).isEqualTo(at(3, 0));
        ChangePage ahead = log.read(X, at(9, 0));
        assertThat(ahead.gap()).isFalse();
        assertThat(ahead.next())
                .as("a reader ahead of this replica keeps its position")
                .isEqualTo(at(9, 0));
    }

    @Test
    void keyWritesAndDeletesAreReadByPrefixAndByTheirRegistersWatch() {
        WatchEvent write = registerSet("svc/a", S, 1, new byte[] {1});
        WatchEvent gone = WatchEvent.registerDeleted("svc/a", S, 1, WatchEvent.Cause.SESSION_EXPIRED);
        log.append(1, List.of(write, got("svc/lock", 1), registerSet("other", S, 1, new byte[0])));
        log.append(2, List.of(gone));

        assertThat(log.readKeys("svc/", ChangePosition.START).events())
                .containsExactly(write.at("1.1"), gone.at("2.1"));
        assertThat(log.readKeys("svc/", at(1, 1)).events()).containsExactly(gone.at("2.1"));
        assertThat(log.readKeys("", ChangePosition.START).events()).hasSize(3);
        assertThat(log.readKeys("svc/", null).gap()).isTrue();
        assertThat(log.read(WatchTarget.register("svc/a"), ChangePosition.START).events())
                .containsExactly(write.at("1.1"), gone.at("2.1"));
        assertThat(log.read(WatchTarget.prefix("svc/"), ChangePosition.START).events())
                .as("a lock prefix watch: locks only")
                .containsExactly(got("svc/lock", 1).at("1.2"));
    }

    @Test
    void noPositionIsAGap() {
        log.append(1, List.of(got("jobs/x", 1)));

        ChangePage page = log.read(X, null);

        assertThat(page.gap()).isTrue();
        assertThat(page.events()).isEmpty();
        assertThat(page.next()).isEqualTo(at(2, 0));
    }

    @Test
    void aLoadedSnapshotMakesEveryEarlierPositionAGap() {
        log.append(1, List.of(got("jobs/x", 1)));
        log.loaded(10);

        assertThat(log.read(X, ChangePosition.START).gap()).isTrue();
        assertThat(log.read(X, at(10, 5)).gap()).as("the snapshot's own entry").isTrue();
        ChangePage fromSnapshot = log.read(X, at(11, 0));
        assertThat(fromSnapshot.gap()).isFalse();
        assertThat(fromSnapshot.events()).isEmpty();
        assertThat(fromSnapshot.next()).isEqualTo(at(11, 0));

        log.append(7, List.of(got("jobs/x", 2)));
        log.append(11, List.of(got("jobs/x", 3)));
        assertThat(log.read(X, at(11, 0)).events())
                .containsExactly(got("jobs/x", 3).at("11.1"));
    }

    @Test
    void reAppendingAnOldIndexIsIgnored() {
        log.append(1, List.of(got("jobs/x", 1)));
        log.append(2, List.of(got("jobs/x", 2)));

        log.append(2, List.of(got("jobs/x", 99)));
        log.append(1, List.of(got("jobs/x", 98)));
        log.append(0, List.of(got("jobs/x", 97)));

        assertThat(log.read(X, ChangePosition.START).events())
                .containsExactly(got("jobs/x", 1).at("1.1"), got("jobs/x", 2).at("2.1"));
        assertThat(log.appended()).isEqualTo(at(3, 0));
    }

    @Test
    void theOldestChangesBeyondCapacityBecomeAGapAndPagesAreBounded() {
        List<WatchEvent> one = List.of(got("jobs/x", 1));
        for (int i = 1; i <= ChangeLog.CAPACITY + 1; i++) {
            log.append(i, one);
        }

        assertThat(log.read(X, ChangePosition.START).gap()).isTrue();
        assertThat(log.read(X, at(1, 0)).gap()).as("the evicted change").isTrue();
        ChangePage first = log.read(X, at(1, 1));
        assertThat(first.gap())
                .as("everything after the evicted change is here")
                .isFalse();
        assertThat(first.events()).hasSize(ChangeLog.PAGE);
        assertThat(first.events().get(0).position()).isEqualTo("2.1");
        assertThat(first.next()).isEqualTo(at(ChangeLog.PAGE + 1, 1));

        ChangePage second = log.read(X, first.next());
        assertThat(second.events().get(0).position()).isEqualTo((ChangeLog.PAGE + 2) + ".1");
        ChangePage last = log.read(X, at(ChangeLog.CAPACITY + 1, 0));
        assertThat(last.events()).containsExactly(one.get(0).at((ChangeLog.CAPACITY + 1) + ".1"));
        assertThat(last.next()).isEqualTo(at(ChangeLog.CAPACITY + 2, 0));
    }

    @Test
    void registerValuesBeyondTheByteCapEvictTheOldestChanges() {
        WatchTarget k = WatchTarget.register("k");
        byte[] quarter = new byte[ChangeLog.MAX_VALUE_BYTES / 4];
        log.append(1, List.of(got("jobs/x", 1)));
        for (int i = 2; i <= 5; i++) {
            log.append(i, List.of(registerSet("k", S, i - 1, quarter)));
        }
        assertThat(log.read(X, ChangePosition.START).gap())
                .as("exactly at the cap: all kept")
                .isFalse();

        log.append(6, List.of(registerSet("k", S, 5, quarter)));

        assertThat(log.read(X, ChangePosition.START).gap()).isTrue();
        assertThat(log.read(k, at(2, 0)).gap())
                .as("the first write is gone too")
                .isTrue();
        ChangePage kept = log.read(k, at(2, 1));
        assertThat(kept.gap()).isFalse();
        List<Long> versions = new ArrayList<>();
        while (!kept.events().isEmpty()) {
            kept.events().forEach(e -> versions.add(e.version()));
            kept = log.read(k, kept.next());
        }
        assertThat(versions).containsExactly(2L, 3L, 4L, 5L);
    }

    @Test
    void aPageOfChangesEndsAtItsValuesBytesAndTheNextReadGoesOnRightAfterIt() {
        WatchTarget keys = WatchTarget.keys("big/");
        byte[] value = new byte[io.holdfast.Keys.MAX_VALUE_BYTES];
        for (int i = 1; i <= 40; i++) {
            log.append(i, List.of(registerSet("big/" + i, S, 1, value)));
        }
        List<String> told = new ArrayList<>();
        ChangePosition from = at(1, 0);
        int pages = 0;
        for (ChangePage page = log.read(keys, from); !page.events().isEmpty(); page = log.read(keys, page.next())) {
            pages++;
            assertThat(page.gap()).isFalse();
            assertThat(page.events().stream().mapToLong(WatchEvent::valueLength).sum())
                    .as("page %d fits %d bytes of values", pages, Limits.MAX_KEY_PAGE_BYTES)
                    .isLessThanOrEqualTo(Limits.MAX_KEY_PAGE_BYTES);
            page.events().forEach(e -> told.add(e.name()));
        }
        assertThat(pages).isEqualTo(3); // 16 values of 64 KiB fill 1 MiB: 16, 16, 8
        assertThat(told).hasSize(40).doesNotHaveDuplicates();
        assertThat(told.get(39)).isEqualTo("big/40");
    }

    @Test
    void changedCompletesOnAMatchingChangeOnly() {
        log.append(1, List.of(got("jobs/x", 1)));
        ChangePosition from = log.appended();
        CompletableFuture<Void> lock = log.changed(X, from);
        CompletableFuture<Void> prefix = log.changed(JOBS, from);
        CompletableFuture<Void> register = log.changed(WatchTarget.register("jobs/x"), from);

        log.append(2, List.of(got("other", 2)));
        log.append(3, List.of());
        assertThat(List.of(lock, prefix, register)).noneMatch(CompletableFuture::isDone);

        log.append(4, List.of(got("jobs/y", 3)));
        assertThat(prefix).isDone();
        assertThat(lock).isNotDone();

        log.append(5, List.of(released("jobs/x", S, 1, EXCLUSIVE, RELEASED)));
        assertThat(lock).isDone();
        assertThat(register).as("a lock change is not a register change").isNotDone();

        log.append(6, List.of(registerSet("jobs/x", S, 1, new byte[] {1})));
        assertThat(register).isDone();
    }

    @Test
    void changedCompletesAtOnceWhenThereIsSomethingToReadAndOnALoad() {
        log.append(1, List.of(got("jobs/x", 1)));

        assertThat(log.changed(X, ChangePosition.START))
                .as("a change is there to read")
                .isDone();
        assertThat(log.changed(X, null)).as("a gap is there to read").isDone();

        List<CompletableFuture<Void>> waiting = new ArrayList<>();
        waiting.add(log.changed(X, log.appended()));
        waiting.add(log.changed(WatchTarget.register("k"), log.appended()));
        assertThat(waiting).noneMatch(CompletableFuture::isDone);
        log.loaded(5);
        assertThat(waiting).allMatch(CompletableFuture::isDone);
    }

    /**
     * A watcher's poll costs the same whatever the number of other watchers: 100,000 watchers of distinct locks
     * keep polling (each poll's wait runs out and it polls again), and 20,000 changes of other locks are appended;
     * only the watcher of the lock that changes then wakes. Looking through every waiting poll on each poll and on
     * each append made this quadratic: about 10^10 steps here, minutes instead of well under a second.
     */
    @Test
    void pollsAndAppendsCostTheSameWhateverTheNumberOfWatchers() {
        int watchers = 100_000;
        java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
        long started = cpu.getCurrentThreadCpuTime(); // CPU, not wall time: steady on a busy machine
        List<CompletableFuture<Void>> polls = new ArrayList<>(watchers);
        for (int round = 0; round < 2; round++) {
            polls.forEach(f -> f.complete(null)); // their waits ran out
            polls.clear();
            for (int i = 0; i < watchers; i++) {
                polls.add(log.changed(WatchTarget.lock("w/" + i), log.appended()));
            }
        }
        for (int k = 0; k < 20_000; k++) {
            log.append(k + 1, List.of(got("other/" + k, k + 1)));
        }
        log.append(20_001, List.of(got("w/7", 20_001)));
        long millis = (cpu.getCurrentThreadCpuTime() - started) / 1_000_000;

        assertThat(polls.get(7)).isDone();
        assertThat(polls.stream().filter(CompletableFuture::isDone)).hasSize(1);
        assertThat(millis).as("CPU ms for 200,000 polls and 20,001 appends").isLessThan(5_000);
    }
}
