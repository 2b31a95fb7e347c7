package io.holdfast.it.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.it.conformance.ServingProbe.Probe;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When {@link ServingProbe} says the service last returned: what OutageTest's 5 s count from. */
class ServingProbeTest {
    private static Probe served(long sent, long ended) {
        return new Probe(sent, ended, true, "served");
    }

    private static Probe gap(long sent, long ended) {
        return new Probe(sent, ended, false, "no leader");
    }

    @Test
    void withoutAGapTheFirstReturnCounts() {
        List<Probe> probes = List.of(served(0, 10), served(260, 270), served(520, 530));

        assertThat(ServingProbe.lastReturn(probes, 0, 9_000)).isZero();
    }

    @Test
    void aGapMovesTheReturnToTheFirstWriteServedAfterIt() {
        List<Probe> probes =
                List.of(served(0, 10), gap(260, 3_260), gap(3_510, 6_510), served(6_760, 7_900), served(8_150, 8_200));

        assertThat(ServingProbe.lastReturn(probes, 0, 12_000)).isEqualTo(7_900);
    }

    @Test
    void onlyTheLastGapBeforeTheRegistrationCounts() {
        List<Probe> probes = List.of(
                gap(0, 3_000), served(3_250, 3_300), gap(3_550, 6_550), served(6_800, 6_900), served(20_000, 20_010));

        assertThat(ServingProbe.lastReturn(probes, 0, 10_000)).isEqualTo(6_900);
    }

    @Test
    void probesThatEndedAfterTheRegistrationWasSeenDoNotCount() {
        List<Probe> probes = List.of(served(0, 10), gap(260, 3_260), served(3_510, 3_600));

        assertThat(ServingProbe.lastReturn(probes, 0, 2_000))
                .as("the gap ended after the registration was seen")
                .isZero();
        assertThat(ServingProbe.lastReturn(probes, 0, 3_400))
                .as("seen while the probes had not seen the service serve again")
                .isEqualTo(3_400);
    }
}
