package io.holdfast.server.config;

import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;
import java.util.concurrent.ThreadLocalRandom;

/**
 * JVM settings a process that hosts a {@code HoldfastServer} should make before anything else runs.
 *
 * <p>{@link #prepare()} raises the parallelism of the common fork-join pool to at least 2. With
 * fewer than 2 (the JVM's default on a machine of 1 or 2 CPUs is CPUs - 1), {@code
 * CompletableFuture}'s async methods without an executor start a new thread for every task, and
 * Ratis uses them on the path of every replicated entry: a 2-CPU follower measured 4-5 % of its CPU
 * in thread creation alone, and a 3-node cluster served a single client 39 pairs/s instead of 62.
 *
 * <p>It works only if it runs before {@code CompletableFuture} or {@code ForkJoinPool} is first used
 * in the JVM (the setting is read once, then fixed); the command line's and the verifier's {@code
 * main} classes call it from their static initializers. An application that embeds the server can
 * pass {@code -Djava.util.concurrent.ForkJoinPool.common.parallelism=2} instead. A value the
 * operator set is never changed.
 *
 * <p>It also turns on {@code TCP_NODELAY} for the JDK's HTTP server ({@code
 * sun.net.httpserver.nodelay}), which serves the HTTP port: without it, an answer written as
 * headers then body waits for the client's delayed ACK (Nagle's algorithm), and every small answer
 * of a kept-alive connection took 44 ms (measured: 90 requests/s on 4 connections; see
 * docs/benchmarks.md). The JDK reads it once, when its HTTP server is first used.
 *
 * <p>And it gives each of the three Netty copies on the class path (gRPC's shaded one, Ratis's
 * shaded one, and plain Netty) a machine id of random bytes ({@code io.netty.machineId} under each
 * copy's prefix), which Netty only puts in its channel ids. Without one, Netty looks for a hardware
 * address among the network interfaces, and where there is none (a container or network namespace
 * with only loopback) every process logged {@code MacAddressUtil - Failed to find a usable hardware
 * address ... using random bytes}: the same random bytes, as a WARN (issue 51). Netty reads it once,
 * when its first channel id is made.
 */
public final class ServerJvm {
    static final String PARALLELISM = "java.util.concurrent.ForkJoinPool.common.parallelism";

    private ServerJvm() {}

    static final String HTTP_NODELAY = "sun.net.httpserver.nodelay";

    /** The machine id property of each Netty the server and the CLI load, as each copy spells it. */
    static final List<String> NETTY_MACHINE_IDS = List.of(
            "io.grpc.netty.shaded.io.netty.machineId",
            "org.apache.ratis.thirdparty.io.netty.machineId",
            "io.netty.machineId");

    /**
     * Sets the common pool's parallelism to max(2, CPUs - 1), TCP_NODELAY for the HTTP port and
     * Netty's machine ids, unless they were set already.
     */
    public static void prepare() {
        String machineId = null;
        for (String property : NETTY_MACHINE_IDS) {
            if (System.getProperty(property) == null) {
                machineId = machineId == null ? randomMachineId() : machineId;
                System.setProperty(property, machineId);
            }
        }
        if (System.getProperty(HTTP_NODELAY) == null) {
            System.setProperty(HTTP_NODELAY, "true");
        }
        if (System.getProperty(PARALLELISM) == null) {
            int cpus = Runtime.getRuntime().availableProcessors();
            System.setProperty(PARALLELISM, Integer.toString(Math.max(2, cpus - 1)));
        }
    }

    /** Eight random bytes as Netty writes a machine id: {@code 0a:1b:...}. */
    private static String randomMachineId() {
        byte[] bytes = new byte[8];
        ThreadLocalRandom.current().nextBytes(bytes);
        StringJoiner id = new StringJoiner(":");
        for (byte b : bytes) {
            id.add(String.format(Locale.ROOT, "%02x", b & 0xff));
        }
        return id.toString();
    }
}
