package io.holdfast.verify.run;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The client worker JVMs of a run ({@code io.holdfast.verify.client.ClientMain}), driven over their
 * stdin/stdout line protocol: {@code start}, {@code stop}, final-phase probes, {@code close}.
 */
final class Workers implements AutoCloseable {
    static final String MAIN = "io.holdfast.verify.client.ClientMain";
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(2);

    /**
     * One worker's launch settings.
     *
     * @param args what the scenario adds to a workload worker's options ({@code --multi-locks},
     *     {@code --elections}, …; see {@link Scenario.Load#workerArgs}); ignored for the intruder
     */
    record Spec(String id, boolean intruder, Path hostsFile, Path history, Path log, long seed, List<String> args) {
        Spec {
            args = List.copyOf(args);
        }
    }

    private final Map<String, Spec> specs = new LinkedHashMap<>();
    private final Map<String, Child> running = new LinkedHashMap<>();
    private final Map<String, String> sessions = new LinkedHashMap<>();
    /** Each worker's client URI, by worker id. */
    private final java.util.function.Function<String, String> uriOf;

    private final String fenced;
    private final String unfenced;
    private final Duration ttl;

    /** The workers' shiftable wall clocks, when the scenario jumps them; else null. */
    private WallClocks clocks;

    /** @param uriOf each worker's client URI, by worker id (its home first: {@link Nodes#uri(String)}) */
    Workers(
            List<Spec> workers,
            java.util.function.Function<String, String> uriOf,
            String fenced,
            String unfenced,
            Duration ttl) {
        for (Spec s : workers) {
            specs.put(s.id(), s);
        }
        this.uriOf = uriOf;
        this.fenced = fenced;
        this.unfenced = unfenced;
        this.ttl = ttl;
    }

    /** Starts every worker from now on with a wall clock of its own in {@code clocks}. */
    void withClocks(WallClocks clocks) {
        this.clocks = clocks;
    }

    /** The ordinary clients (the intruder is not among them: faults leave it alone); unmodifiable. */
    List<String> ids() {
        return clients().map(Spec::id).toList();
    }

    /** The intruder's id, if the run has one. */
    java.util.Optional<String> intruderId() {
        return specs.values().stream().filter(Spec::intruder).map(Spec::id).findFirst();
    }

    /** The ordinary clients' history files (not the intruder's). */
    List<Path> clientHistories() {
        return clients().map(Spec::history).toList();
    }

    private java.util.stream.Stream<Spec> clients() {
        return specs.values().stream().filter(s -> !s.intruder());
    }

    List<Path> histories() {
        List<Path> h = new ArrayList<>();
        for (Spec s : specs.values()) {
            h.add(s.history());
        }
        return h;
    }

    /** Starts every worker and waits until each has a session. */
    void startAll() throws IOException, InterruptedException {
        for (Spec s : specs.values()) {
            List<String> args = new ArrayList<>(List.of(
                    "--id",
                    s.id(),
                    "--uri",
                    uriOf.apply(s.id()),
                    "--history",
                    s.history().toString(),
                    "--fenced",
                    fenced,
                    "--unfenced",
                    unfenced,
                    "--seed",
                    Long.toString(s.seed()),
                    "--ttl",
                    ttl.toMillis() + "ms",
                    // a call to a member cut off without a reset gives up after this long, so
                    // operations stay short and the client tries the next member
                    "--request-timeout",
                    REQUEST_TIMEOUT.toMillis() + "ms"));
            if (s.intruder()) {
                args.add("--intruder");
            } else {
                args.addAll(s.args());
            }
            List<String> jvm = List.of(
                    "-Xmx128m",
                    "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1",
                    "-XX:ActiveProcessorCount=1",
                    "-Djdk.net.hosts.file=" + s.hostsFile());
            running.put(
                    s.id(),
                    Child.start(
                            s.id(), jvm, MAIN, args, s.log(), clocks == null ? Map.of() : clocks.environment(s.id())));
        }
        for (Map.Entry<String, Child> e : running.entrySet()) {
            String line = e.getValue().expect(StartLimits.WORKERS, "READY");
            sessions.put(e.getKey(), line.substring(5).trim());
        }
    }

    /** The session id each worker reported when it started. */
    Map<String, String> sessions() {
        return sessions;
    }

    /** Sends a line to every live worker. */
    void broadcast(String line) {
        for (Child c : running.values()) {
            if (c.isAlive()) {
                c.send(line);
            }
        }
    }

    /** Stops every live worker's workload and waits until each has given back what it held. */
    List<String> stopAll(Duration timeout) throws InterruptedException {
        broadcast("stop");
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Child> e : running.entrySet()) {
            if (!e.getValue().isAlive()) {
                problems.add(e.getKey() + " had exited");
                continue;
            }
            try {
                e.getValue().expect(timeout, "STOPPED");
            } catch (IOException ex) {
                problems.add(ex.getMessage());
            }
        }
        return problems;
    }

    /** Sends one command to a worker and returns its answer line (one of the prefixes). */
    String ask(String id, String command, Duration timeout, String... answers)
            throws IOException, InterruptedException {
        Child c = running.get(id);
        if (c == null || !c.isAlive()) {
            throw new IOException(id + " is not running");
        }
        c.send(command);
        return c.expect(timeout, answers);
    }

    /** Sends one command without waiting for its answer (see {@link #expect}). */
    void send(String id, String command) throws IOException {
        Child c = running.get(id);
        if (c == null || !c.isAlive()) {
            throw new IOException(id + " is not running");
        }
        c.send(command);
    }

    /** Waits for a worker's next line starting with one of {@code answers}. */
    String expect(String id, Duration timeout, String... answers) throws IOException, InterruptedException {
        Child c = running.get(id);
        if (c == null) {
            throw new IOException(id + " is not running");
        }
        return c.expect(timeout, answers);
    }

    boolean isAlive(String id) {
        Child c = running.get(id);
        return c != null && c.isAlive();
    }

    void pause(String id) {
        Child c = running.get(id);
        if (c != null) {
            c.pause();
        }
    }

    void resume(String id) {
        Child c = running.get(id);
        if (c != null) {
            c.resume();
        }
    }

    void kill(String id) throws InterruptedException {
        Child c = running.get(id);
        if (c != null) {
            c.kill();
        }
    }

    /** Asks every worker to close its client, then ends the processes. */
    void closeAll(Duration timeout) throws InterruptedException {
        broadcast("close");
        for (Child c : running.values()) {
            if (c.isAlive()) {
                try {
                    c.expect(timeout, "CLOSED");
                } catch (IOException ignored) {
                    // it is stopped below either way
                }
            }
        }
        close();
    }

    @Override
    public void close() {
        running.values().forEach(Child::requestStop); // all at once, then wait for each
        for (Child c : running.values()) {
            c.close();
        }
    }
}
