package io.holdfast.ports;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two instances on one lock directory stand for two test JVMs of one machine. */
class PortRangesTest {
    @TempDir
    Path locks;

    @Test
    void twoJvmsNeverShareARangeNorAPortAsTheyUseRangesUp() {
        PortRanges one = new PortRanges(locks);
        PortRanges two = new PortRanges(locks);
        List<Integer> ones = new ArrayList<>();
        List<Integer> twos = new ArrayList<>();
        for (int i = 0; i < PortRanges.RANGE * 3 / 2; i++) { // each uses up its first range and claims another
            ones.add(one.next());
            twos.add(two.next());
        }
        assertThat(ones).doesNotHaveDuplicates().doesNotContainAnyElementsOf(twos);
        assertThat(ones.stream().map(PortRanges::rangeOf).distinct().count()).isGreaterThanOrEqualTo(2);
        assertThat(ones.stream().map(PortRanges::rangeOf).distinct())
                .doesNotContainAnyElementsOf(
                        twos.stream().map(PortRanges::rangeOf).distinct().toList());
        assertThat(ones).allSatisfy(p -> assertThat(p).isBetween(PortRanges.LOWEST, PortRanges.ABOVE_HIGHEST - 1));
    }

    @Test
    void aPortTheOtherTookIsRefused() {
        PortRanges one = new PortRanges(locks);
        PortRanges two = new PortRanges(locks);
        int port = one.next();
        assertThat(two.take(port)).isFalse();
        assertThat(one.take(port)).as("handed out already").isFalse();
        int outside = port + PortRanges.RANGE; // another range's: taken by its computed number
        assertThat(two.take(outside) && one.take(outside)).isFalse();
    }
}
