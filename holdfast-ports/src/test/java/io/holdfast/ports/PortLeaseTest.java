package io.holdfast.ports;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two leases drawing the same candidates (the same seed) must never hold the same port: without the
 * locks both would take the very same ports, since none is bound.
 */
class PortLeaseTest {
    private static final int PORTS = 9; // three nodes, three ports each

    @TempDir
    Path dir;

    @Test
    void aLeaseInAnotherProcessHoldsItsPortsUntilItEnds() throws Exception {
        Process child = ChildJvm.start(PortLeaseTest.class, dir.toString());
        try (BufferedReader childOut =
                new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line = childOut.readLine();
            assertThat(line).as("the child's ports").isNotNull();
            Set<Integer> theirs = new HashSet<>();
            Arrays.stream(line.trim().split(" ")).map(Integer::valueOf).forEach(theirs::add);
            assertThat(theirs).hasSize(PORTS);

            try (PortLease mine = new PortLease(dir, new Random(42))) {
                List<Integer> ours = take(mine);
                assertThat(ours).doesNotContainAnyElementsOf(theirs);
            }

            child.getOutputStream().close(); // the child ends, and its locks with it
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            try (PortLease after = new PortLease(dir, new Random(42))) {
                assertThat(take(after))
                        .as("the same draws, once the child is gone")
                        .containsAll(theirs);
            }
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void twoLeasesOfOneJvmNeverShareAPortAndClosingGivesThemBack() throws Exception {
        List<Integer> first;
        try (PortLease a = new PortLease(dir, new Random(7));
                PortLease b = new PortLease(dir, new Random(7))) {
            first = take(a);
            List<Integer> second = take(b);
            assertThat(first).doesNotHaveDuplicates().hasSize(PORTS);
            assertThat(second).doesNotContainAnyElementsOf(first);
        }
        try (PortLease c = new PortLease(dir, new Random(7))) {
            assertThat(take(c)).isEqualTo(first);
        }
    }

    @Test
    void aBoundPortIsNotTakenAndEveryPortIsBelowTheKernelsRange() throws Exception {
        List<Integer> draws;
        try (PortLease probe = new PortLease(dir, new Random(3))) {
            draws = take(probe);
        }
        try (ServerSocket busy = new ServerSocket()) {
            busy.bind(new InetSocketAddress("127.0.0.1", draws.get(0)));
            try (PortLease lease = new PortLease(dir, new Random(3))) {
                List<Integer> got = take(lease);
                assertThat(got).doesNotContain(draws.get(0)).allMatch(p -> p >= 20_000 && p < 32_000);
                assertThat(lease.ports()).isEqualTo(got);
            }
        }
    }

    private static List<Integer> take(PortLease lease) throws Exception {
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < PORTS; i++) {
            ports.add(lease.take());
        }
        return ports;
    }

    /** The child: takes {@value #PORTS} ports with seed 42, prints them, holds them until stdin ends. */
    public static void main(String[] args) throws Exception {
        try (PortLease lease = new PortLease(Path.of(args[0]), new Random(42))) {
            StringBuilder line = new StringBuilder();
            for (int p : take(lease)) {
                line.append(p).append(' ');
            }
            System.out.println(line.toString().trim());
            System.out.flush();
            while (System.in.read() != -1) {
                // hold until the parent closes our stdin
            }
        }
    }
}
