package io.holdfast.recipes;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Election;
import io.holdfast.HolderInfo;
import io.holdfast.LockInfo;
import io.holdfast.LockMode;
import io.holdfast.WatchEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@link LeaderObserver}: two watches, one sequence of leaders in epoch order. */
class LeaderObserverTest {
    private final List<Optional<Election.Leader>> told = new ArrayList<>();
    private final LeaderObserver observer = new LeaderObserver("e", told::add);

    private static LockInfo held(long token) {
        return new LockInfo(
                "e",
                false,
                1,
                List.of(new HolderInfo("s", "c", LockMode.EXCLUSIVE, 1, token, 1, java.time.Duration.ZERO, null)),
                List.of());
    }

    private static byte[] proclaimed(long epoch, String value) {
        return (epoch + ":" + value).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Found by {@code holdfast verify --scenario election}: the register's state came first and the
     * observer said "nobody leads" while epoch 28 led, then told epoch 28 again.
     */
    @Test
    void nothingIsToldBeforeTheLockIsKnownEvenIfTheRegisterComesFirst() {
        observer.ofRegister().onEvent(WatchEvent.registerState("e", 3, proclaimed(28, "a")));
        assertThat(told)
                .as("the register alone says nothing about who leads now")
                .isEmpty();
        observer.ofLock().onEvent(WatchEvent.lockState("e", List.of(held(28))));
        assertThat(told).containsExactly(Optional.of(new Election.Leader("e", 28, "a")));
    }

    @Test
    void leadersAreToldInEpochOrderWithTheirValueOnceProclaimed() {
        observer.ofLock().onEvent(WatchEvent.lockState("e", List.of()));
        observer.ofRegister().onEvent(WatchEvent.registerState("e", 0, null));
        observer.ofLock().onEvent(WatchEvent.acquired("e", "s", 5, LockMode.EXCLUSIVE));
        observer.ofRegister().onEvent(WatchEvent.registerSet("e", "s", 1, proclaimed(5, "x")));
        observer.ofLock().onEvent(WatchEvent.released("e", "s", 5, LockMode.EXCLUSIVE, WatchEvent.Cause.RELEASED));
        observer.ofRegister().onEvent(WatchEvent.registerSet("e", "s", 2, proclaimed(4, "stale")));
        assertThat(told)
                .containsExactly(
                        Optional.empty(),
                        Optional.of(new Election.Leader("e", 5, null)),
                        Optional.of(new Election.Leader("e", 5, "x")),
                        Optional.empty());
    }
}
