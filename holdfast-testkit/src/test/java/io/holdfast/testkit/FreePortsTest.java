package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ports.PortRanges;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FreePortsTest {
    /** Run in a child JVM: draws {@code args[0]} ports, says which, and keeps them until killed. */
    public static final class Holder {
        public static void main(String[] args) throws Exception {
            for (int i = Integer.parseInt(args[0]); i > 0; i--) {
                System.out.println(FreePorts.next());
            }
            System.out.flush();
            Thread.sleep(60_000);
        }
    }

    @Test
    void aPortAnotherJvmDrewIsRefusedThoughNothingListensOnIt() throws Exception {
        Process child = holder(1);
        try {
            int taken = ports(child, 1).get(0);
            assertThat(FreePorts.take(taken)).as("the port the child JVM drew").isFalse();
            int mine = FreePorts.next();
            assertThat(mine).isNotEqualTo(taken);
            assertThat(FreePorts.take(mine))
                    .as("a port handed out in this JVM already")
                    .isFalse();
        } finally {
            stop(child);
        }
    }

    /** Each JVM draws from ranges of its own: not one range that both draw from, each port locked. */
    @Test
    void twoJvmsDrawFromRangesOfTheirOwn() throws Exception {
        Process child = holder(20);
        try {
            List<Integer> theirs = ports(child, 20);
            List<Integer> mine = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                mine.add(FreePorts.next());
            }
            assertThat(mine.stream().map(PortRanges::rangeOf).distinct())
                    .as("the ranges of " + PortRanges.RANGE + " ports this JVM drew " + mine + " from (the child's: "
                            + theirs + ")")
                    .doesNotContainAnyElementsOf(
                            theirs.stream().map(PortRanges::rangeOf).distinct().toList());
        } finally {
            stop(child);
        }
    }

    private static Process holder(int ports) throws IOException {
        return new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        Holder.class.getName(),
                        Integer.toString(ports))
                .redirectErrorStream(true)
                .start();
    }

    private static List<Integer> ports(Process child, int count) throws IOException {
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ports.add(Integer.parseInt(out.readLine().trim()));
        }
        return ports;
    }

    private static void stop(Process child) throws InterruptedException {
        child.destroyForcibly();
        child.waitFor(10, TimeUnit.SECONDS);
    }
}
