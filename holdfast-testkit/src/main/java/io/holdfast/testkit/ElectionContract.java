package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.ConflictException;
import io.holdfast.Election;
import io.holdfast.Leadership;
import io.holdfast.LockClient;
import io.holdfast.LockTimeoutException;
import io.holdfast.UnsupportedFeatureException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@link io.holdfast.LockClient#election}: leader election over the lock and the register of one
 * name, where the provider has {@link Capability#FENCED_REGISTERS} and {@link Capability#INSPECT}.
 */
abstract class ElectionContract extends ContractSupport {
    ElectionContract(LockProviderContract suite) {
        super(suite);
    }

    private static final AcquireOptions WAIT = AcquireOptions.waitUpTo(LONG_WAIT);

    private void assumeElections() {
        assumeCapability(Capability.FENCED_REGISTERS, Capability.INSPECT);
    }

    @Test
    void aLoneCandidateLeadsWithItsTokenAsEpochAndEveryoneSeesItsValue() throws Exception {
        assumeElections();
        String n = name("election");
        assertThat(observer().election(n).leader()).as("before any campaign").isEmpty();
        try (Leadership leading = open().election(n).campaign("10.0.0.7:8080", WAIT)) {
            assertThat(leading.isValid()).isTrue();
            assertThat(leading.epoch())
                    .isEqualTo(leading.lease().fencingToken())
                    .isPositive();
            assertThat(leading.value()).isEqualTo("10.0.0.7:8080");
            Election.Leader seen = observer().election(n).leader().orElseThrow();
            assertThat(seen.epoch()).isEqualTo(leading.epoch());
            assertThat(seen.value()).isEqualTo("10.0.0.7:8080");
            assertThat(seen.election()).isEqualTo(n);
        }
        assertThat(observer().election(n).leader()).as("after it resigned").isEmpty();
    }

    @Test
    void theNextCandidateLeadsWhenTheLeaderResignsWithAHigherEpoch() throws Exception {
        assumeElections();
        String n = name("election");
        Leadership first = open().election(n).campaign("first", WAIT);
        Background<Leadership> second =
                inBackground("second", () -> open().election(n).campaign("second", WAIT));
        awaitQueued(n, 1);
        assertThat(second.result()).as("while the first leads").isNotDone();
        first.resign();
        assertThat(first.isValid()).isFalse();
        Leadership next = Futures.get(second.result(), PROMPTLY);
        assertThat(next.epoch()).isGreaterThan(first.epoch());
        eventually(PROMPTLY)
                .alias("observers to see the second leader's value")
                .until(() -> "second"
                        .equals(observer().election(n).leader().orElseThrow().value()));
        next.resign();
    }

    @Test
    void candidatesWinInTheOrderTheyCampaigned() throws Exception {
        assumeElections();
        assumeCapability(Capability.FAIR_QUEUE);
        String n = name("election");
        Leadership leading = open().election(n).campaign("c0", WAIT);
        List<Background<Leadership>> candidates = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            String value = "c" + i;
            candidates.add(inBackground(value, () -> open().election(n).campaign(value, WAIT)));
            awaitQueued(n, i);
        }
        List<String> order = new ArrayList<>();
        long epoch = leading.epoch();
        for (Background<Leadership> c : candidates) {
            leading.resign();
            leading = Futures.get(c.result(), PROMPTLY);
            assertThat(leading.epoch()).as("epochs rise").isGreaterThan(epoch);
            epoch = leading.epoch();
            order.add(leading.value());
        }
        leading.resign();
        assertThat(order).containsExactly("c1", "c2", "c3");
    }

    /** The point of an epoch: a deposed leader's fenced write is refused by the store. */
    @Test
    void aDeposedLeadersFencedWriteIsRefused() throws Exception {
        assumeElections();
        assumeCapability(Capability.REVOKE);
        String n = name("election");
        String report = name("report");
        LockClient oldClient = open();
        Leadership old = oldClient.election(n).campaign("old", WAIT);
        oldClient.register(report).compareAndSet(0, bytes("by old"), old.lease());
        assertThat(observer().admin().revoke(n))
                .as("an operator deposes the leader")
                .isEqualTo(1);
        LockClient newClient = open();
        try (Leadership now = newClient.election(n).campaign("new", WAIT)) {
            assertThat(now.epoch()).isGreaterThan(old.epoch());
            assertThatThrownBy(() -> oldClient.register(report).compareAndSet(1, bytes("late"), old.lease()))
                    .as("the deposed leader's write, fenced by its leadership")
                    .isInstanceOf(ConflictException.class);
            assertThat(newClient
                            .register(report)
                            .compareAndSet(1, bytes("by new"), now.lease())
                            .version())
                    .isEqualTo(2);
        }
    }

    @Test
    void aCampaignThatIsNotElectedInTimeEndsAndLeavesNoCandidacy() throws Exception {
        assumeElections();
        String n = name("election");
        try (Leadership leading = open().election(n).campaign("leader", WAIT)) {
            assertThatThrownBy(
                            () -> open().election(n).campaign("late", AcquireOptions.waitUpTo(Duration.ofMillis(200))))
                    .isInstanceOf(LockTimeoutException.class);
            if (has(Capability.INSPECT)) {
                assertThat(waitersOf(n)).as("no candidacy left in the queue").isZero();
            }
            assertThat(observer().election(n).leader().orElseThrow().value()).isEqualTo("leader");
            assertThat(leading.isValid()).isTrue();
        }
    }

    @Test
    void withoutFencedRegistersOrInspectionElectionsAreRefusedByName() {
        Assumptions.assumeFalse(
                has(Capability.FENCED_REGISTERS) && has(Capability.INSPECT),
                "the provider offers elections: the tests above ran");
        String n = name("election");
        assertThatThrownBy(() -> open().election(n).campaign("x", WAIT))
                .isInstanceOf(UnsupportedFeatureException.class)
                .hasMessageContaining("elections need");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
