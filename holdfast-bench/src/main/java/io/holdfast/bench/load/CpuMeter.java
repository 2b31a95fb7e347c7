package io.holdfast.bench.load;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads the CPU time (user + system, as the operating system counts it) of this process, which is the load
 * generator with all its client threads, and of chosen server processes on the same machine. CPU per operation is
 * steadier than a rate on a small shared machine: other work slows a run down, but it adds little to what each
 * operation costs.
 *
 * <p>A server process that ends, or whose CPU time the operating system does not report, makes the servers' figure
 * unknown (NaN), never a smaller number.
 */
public final class CpuMeter {
    /** CPU per acquire+release pair in milliseconds; NaN where unknown. */
    public record CpuUse(double clientMsPerPair, double serverMsPerPair) {
        public static final CpuUse UNKNOWN = new CpuUse(Double.NaN, Double.NaN);
    }

    /** One reading: nanoseconds of CPU so far, -1 where unknown. */
    public record Sample(long clientNanos, long serverNanos) {}

    private final List<ProcessHandle> servers;

    private CpuMeter(List<ProcessHandle> servers) {
        this.servers = servers;
    }

    /**
     * A meter for this process and the given server processes (none: only this process).
     *
     * @throws IllegalArgumentException naming a pid that is no live process on this machine
     */
    public static CpuMeter of(List<Long> serverPids) {
        List<ProcessHandle> handles = new ArrayList<>();
        for (long pid : serverPids) {
            Optional<ProcessHandle> h = ProcessHandle.of(pid);
            if (h.isEmpty() || !h.get().isAlive()) {
                throw new IllegalArgumentException("--server-pid " + pid + " is no running process on this machine");
            }
            handles.add(h.get());
        }
        return new CpuMeter(List.copyOf(handles));
    }

    /** Whether server processes are measured. */
    public boolean hasServers() {
        return !servers.isEmpty();
    }

    public Sample sample() {
        long client = nanos(ProcessHandle.current());
        long server = servers.isEmpty() ? -1 : 0;
        for (ProcessHandle h : servers) {
            long n = h.isAlive() ? nanos(h) : -1;
            if (n < 0) {
                server = -1;
                break;
            }
            server += n;
        }
        return new Sample(client, server);
    }

    /** CPU per pair between two samples over {@code pairs} pairs. */
    public static CpuUse perPair(Sample from, Sample to, long pairs) {
        return new CpuUse(
                ms(from.clientNanos(), to.clientNanos(), pairs), ms(from.serverNanos(), to.serverNanos(), pairs));
    }

    private static double ms(long from, long to, long pairs) {
        if (from < 0 || to < 0 || pairs <= 0) {
            return Double.NaN;
        }
        return (to - from) / 1e6 / pairs;
    }

    private static long nanos(ProcessHandle h) {
        return h.info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
    }
}
