package io.holdfast.ports;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tests' ports ({@link PortRanges}) and the verifier's ({@link PortLease}) on one machine: a
 * port one holds is refused to the other though nothing listens on it, as for a test's node killed
 * for an outage while a verifier run picks its nodes' ports (CI, 2026-12-01). Each lease here is
 * made to draw the held port first, so that only the lock can refuse it.
 */
class RangesAndLeasesTest {
    @TempDir
    Path locks;

    @Test
    void aLeaseNeverTakesAPortATestJvmHolds() throws Exception {
        Process child = ChildJvm.start(RangesAndLeasesTest.class, locks.toString());
        try (BufferedReader childOut =
                new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line = childOut.readLine();
            assertThat(line).as("the child JVM's port").isNotNull();
            int theirs = Integer.parseInt(line.trim());
            assertThat(PortLocks.bindable(theirs)).as("nothing listens on it").isTrue();

            try (PortLease lease = new PortLease(locks, drawing(theirs, theirs + 1))) {
                assertThat(lease.take()).as("the lease's first port").isEqualTo(theirs + 1);
            }

            child.getOutputStream().close(); // the child ends, and its locks with it
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            try (PortLease after = new PortLease(locks, drawing(theirs))) {
                assertThat(after.take())
                        .as("the same draw, once the child is gone")
                        .isEqualTo(theirs);
            }
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void inOneJvmNeitherTakesWhatTheOtherHolds() throws Exception {
        PortRanges ranges = new PortRanges(locks);
        int test = ranges.next();
        try (PortLease lease = new PortLease(locks, drawing(test, test + 1))) {
            int leased = lease.take();
            assertThat(leased).as("the port the ranges handed out is refused").isEqualTo(test + 1);
            assertThat(ranges.take(leased))
                    .as("the port the lease holds is refused")
                    .isFalse();
        }
    }

    /** A source of candidates that draws these ports, in order (then fails). */
    private static Random drawing(int... ports) {
        Deque<Integer> draws = new ArrayDeque<>();
        for (int p : ports) {
            draws.add(p - PortRanges.LOWEST);
        }
        return new Random() {
            @Override
            public int nextInt(int bound) {
                Integer next = draws.poll();
                if (next == null) {
                    throw new AssertionError("drew more ports than the test planned");
                }
                return next;
            }
        };
    }

    /** The child: a test JVM's first port from the ranges in {@code args[0]}, held until stdin ends. */
    public static void main(String[] args) throws Exception {
        PortRanges ranges = new PortRanges(Path.of(args[0]));
        System.out.println(ranges.next());
        System.out.flush();
        while (System.in.read() != -1) {
            // hold until the parent closes our stdin
        }
    }
}
