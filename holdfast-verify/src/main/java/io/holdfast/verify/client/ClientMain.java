package io.holdfast.verify.client;

import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.RetryPolicy;
import io.holdfast.model.LockService;
import io.holdfast.verify.history.History;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.store.ProtectedStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client worker process of a verification run, driven by the orchestrator over stdin/stdout.
 *
 * <pre>
 * java … io.holdfast.verify.client.ClientMain --id c1 --uri holdfast://h:p,… --history FILE
 *     --fenced HOST:PORT --unfenced HOST:PORT --seed N --ttl 3s [--request-timeout 2s] [--intruder]
 *     [--multi-locks] [--elections [--observe ELECTION,...] [--bug leader-ignores-loss]] [--keys]
 * </pre>
 *
 * <p>With {@code --elections} the workload is {@link ElectionWorkload} (a candidate in leader
 * elections, with the planted client bug {@code --bug}, if named) and an {@link ElectionObserver}
 * follows each election named by {@code --observe}. With {@code --keys} it is {@link KeysWorkload}.
 * This class is the protocol; {@link WorkerLoad} runs the load, {@link FinalProbes} the final
 * phase's probes, and {@link ClientArgs} reads the command line.
 *
 * <p><b>Protocol.</b> Once its client is open it prints {@code READY <sessionId>}. Then it reads one
 * command per line and answers with one line where stated (every line flushed at once; stdout
 * carries nothing else, logging goes through SLF4J and {@code System.out} is redirected to stderr):
 *
 * <ul>
 *   <li>{@code start}: starts the workload (or the intruder with {@code --intruder}) in the
 *       background. No answer (an {@code ERROR} line if one is already running).
 *   <li>{@code stop}: stops it, lets the current operation finish, releases whatever it still held
 *       (recorded), answers {@code STOPPED}. Also when it was not running. A later {@code start}
 *       starts a new one (same seed).
 *   <li>{@code final-acquire NAME KIND WAIT_MS [LIMIT]}: KIND is LOCK, READ, WRITE or SEMAPHORE (one
 *       permit of LIMIT, default 2); WAIT_MS 0 is a try. Recorded with phase {@value #FINAL}.
 *       Answers {@code OK <token>} or {@code FAIL <error>} (FAIL also for an UNKNOWN outcome; the
 *       history tells them apart). The grant is kept for {@code final-release}.
 *   <li>{@code final-release NAME}: releases the oldest grant a final-acquire holds on NAME.
 *       Answers {@code OK <token>} or {@code FAIL <error>}; {@code FAIL NOT_HELD} (not recorded) if
 *       there is none.
 *   <li>{@code final-get KEY}: REG_GET, phase final. Answers {@code OK <version> <value>} or {@code
 *       FAIL <error>}.
 *   <li>{@code final-intrude NAME} (with {@code --intruder}): one foreign release of a holder of
 *       NAME, phase {@value #FINAL}. Answers {@code OK}, {@code FAIL <error>}, {@code UNKNOWN
 *       <error>}, or {@code NONE} when nothing was sent (no holder seen).
 *   <li>{@code hold-next}: the next exclusive critical section on a {@code lock-*} name lingers
 *       for {@link Workload#LINGER} after its ENTER writes and announces {@code IN-CS <name>
 *       <token>} first (the harness pauses the process there).
 *   <li>{@code wait-next KEY}: the next operation is a blocking acquire of KEY that waits {@link
 *       Workload#LONG_WAIT} and announces {@code IN-WAIT <KEY>} once queued (the harness pauses the
 *       process there, so that its session expires with a queued waiter).
 *   <li>{@code lead-next NONCE} (with {@code --elections}): the next step of leader work lingers for
 *       {@link ElectionWorkload#LINGER} after deciding to act, before its writes, and announces
 *       {@code IN-LEAD NONCE <election> <epoch>} first (the harness pauses the process there). A
 *       request that finds no leadership within 3 s is dropped. {@code lead-cancel} drops a request
 *       and ends a linger under way. No answer to either.
 *   <li>{@code contend NAME HOLD_MS}: in the background, a try of the exclusive lock NAME (phase
 *       {@value Workload#PHASE}, recorded like the workload's); answers {@code CONTENDED OK <token>}
 *       or {@code CONTENDED FAIL <error>} as soon as the try has an outcome, holds a grant for
 *       HOLD_MS, then releases it (recorded). The harness uses it to ask a given client for a given
 *       lock at a given moment (right after a partition, say).
 *   <li>{@code final-state LIVE NAME...}: records a {@code FinalLock} for each name (LIVE: the
 *       comma-separated session ids of the run's open clients); answers {@code STATE-END} and
 *       {@code name:holders/waiters} for each. {@code peek-state NAME...} answers the same without
 *       recording anything.
 *   <li>{@code session}: answers {@code SESSION <sessionId>}, the current one (the worker opens a
 *       new client when its session expired, see below).
 *   <li>{@code close}, or end of input: stops the workload as {@code stop} does, releases the
 *       final grants (recorded), closes the client and the history, answers {@code CLOSED}, and
 *       the process exits 0.
 *   <li>Anything else: {@code ERROR <message>}.
 * </ul>
 *
 * <p><b>Failure story.</b> A partition outlasts the session TTL and the session expires. The next
 * operation finds the client closed and opens a new one (a new session, logged; {@code session}
 * tells its id), so the workload goes on after the heal instead of failing until the end.
 */
public final class ClientMain {
    /** The planted bugs a worker knows (client-side; the server's are {@code PlantedBug}). */
    public static final List<String> BUGS = List.of(ElectionWorkload.LEADER_IGNORES_LOSS);

    /** The phase of the probe operations. */
    public static final String FINAL = "final";

    private static final Logger LOG = LoggerFactory.getLogger(ClientMain.class);

    /** How the first session is asked for again: every 500 ms for 45 s (the harness waits 60 s for READY). */
    static final RetryPolicy FIRST_OPEN = FirstOpen.every(Duration.ofMillis(500), Duration.ofSeconds(45));

    /**
     * What a worker needs, whatever opens it.
     *
     * @param opener opens a new client (at start, and again after a session expired)
     * @param bound how long past its wait a call may take: the request timeout plus a margin
     * @param intruderService the protocol connection of an intruder, or null for a workload worker
     * @param multiLocks whether the workload takes multi-locks too ({@code --multi-locks})
     * @param elections whether the workload is {@link ElectionWorkload} ({@code --elections})
     * @param observe the elections to follow with an {@link ElectionObserver} ({@code --observe})
     * @param keys whether the workload is {@link KeysWorkload} ({@code --keys})
     * @param bug a planted client bug of {@link #BUGS} ({@code --bug}), or null
     * @param renewing opens a new client that opens a new session after losing one (the keys
     *     workload's group client, whose recipe rejoins on the new session)
     */
    public record Setup(
            String id,
            Supplier<LockClient> opener,
            ProtectedStore fenced,
            ProtectedStore unfenced,
            long seed,
            Duration ttl,
            Duration bound,
            Supplier<LockService> intruderService,
            boolean multiLocks,
            boolean elections,
            List<String> observe,
            boolean keys,
            String bug,
            Supplier<LockClient> renewing) {
        public Setup {
            observe = observe == null ? List.of() : List.copyOf(observe);
        }
    }

    private final Setup setup;
    private final Ops ops;
    private final FinalProbes probes;
    private final WorkerLoad load;
    private LockClient client;
    private boolean closing;
    private PrintStream out = System.out;

    public ClientMain(Setup setup, Recorder rec) {
        this.setup = setup;
        this.ops = new Ops(rec, setup.bound());
        this.probes = new FinalProbes(rec, ops, this::client);
        this.load = new WorkerLoad(setup, rec, this::client);
    }

    /**
     * Opens the client, prints READY, and runs commands until {@code close} or end of input.
     *
     * @return the exit code: 0 after a close, 1 if the client could not be opened
     */
    public int serve(BufferedReader in, PrintStream out) throws IOException, InterruptedException {
        LockClient first;
        try {
            first = FirstOpen.retrying(this::client, FIRST_OPEN); // before any fault: a slow node is no finding
        } catch (RuntimeException e) {
            LOG.error("cannot open the client", e);
            say(out, "ERROR cannot open the client: " + e);
            return 1;
        }
        this.out = out;
        load.warmUp(); // an intruder's connection and session open before READY, not in the workload
        say(out, "READY " + first.sessionId());
        String line;
        while ((line = in.readLine()) != null) {
            String[] w = line.trim().split("\\s+");
            if (w[0].isEmpty()) {
                continue;
            }
            try {
                if (w[0].equals("close")) {
                    break;
                }
                String answer = command(w);
                if (answer != null) {
                    say(out, answer);
                }
            } catch (RuntimeException e) {
                LOG.warn("command failed: {}", line, e);
                say(out, "ERROR " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
        close();
        say(out, "CLOSED");
        return 0;
    }

    /** Runs one command; its answer line, or null for none. */
    private String command(String[] w) throws InterruptedException {
        switch (w[0]) {
            case "start" -> {
                return load.start();
            }
            case "stop" -> {
                load.stop();
                return "STOPPED";
            }
            case "final-acquire" -> {
                need(w, 4, "final-acquire NAME KIND WAIT_MS [LIMIT]");
                Op.Kind kind = Op.Kind.valueOf(w[2].toUpperCase(Locale.ROOT));
                long waitMillis = Long.parseLong(w[3]);
                int limit = kind == Op.Kind.SEMAPHORE
                        ? (w.length > 4 ? Integer.parseInt(w[4]) : Workload.SEMAPHORE_PERMITS)
                        : 0;
                return probes.acquire(w[1], kind, limit, waitMillis);
            }
            case "final-release" -> {
                need(w, 2, "final-release NAME");
                return probes.release(w[1]);
            }
            case "final-get" -> {
                need(w, 2, "final-get KEY");
                return probes.get(w[1]);
            }
            case "final-intrude" -> {
                need(w, 2, "final-intrude NAME");
                return load.intrude(w[1]);
            }
            case "hold-next" -> {
                PrintStream o = out;
                return load.holdNext(what -> say(o, "IN-CS " + what));
            }
            case "wait-next" -> {
                need(w, 2, "wait-next KEY");
                PrintStream o = out;
                return load.waitNext(w[1], what -> say(o, "IN-WAIT " + what));
            }
            case "lead-next" -> {
                need(w, 2, "lead-next NONCE");
                PrintStream o = out;
                return load.leadNext(what -> say(o, "IN-LEAD " + w[1] + " " + what));
            }
            case "lead-cancel" -> {
                load.cancelLead();
                return null;
            }
            case "contend" -> {
                need(w, 3, "contend NAME HOLD_MS");
                contend(w[1], Long.parseLong(w[2]));
                return null;
            }
            case "final-state" -> {
                need(w, 3, "final-state LIVE_SESSIONS(comma-separated) NAME...");
                return probes.state(List.of(w[1].split(",")), Arrays.asList(w).subList(2, w.length), true);
            }
            case "peek-state" -> {
                need(w, 2, "peek-state NAME...");
                return probes.state(List.of(), Arrays.asList(w).subList(1, w.length), false);
            }
            case "session" -> {
                return "SESSION " + client().sessionId();
            }
            default -> {
                return "ERROR unknown command: " + String.join(" ", w);
            }
        }
    }

    /** Stops everything, gives back the probes' grants, closes the client. */
    private void close() throws InterruptedException {
        load.stop();
        probes.releaseAll();
        LockClient c;
        synchronized (this) {
            closing = true;
            c = client;
        }
        if (c != null) {
            c.close();
        }
    }

    /** The current client; a new one if the session of the last one is gone (unless closing). */
    synchronized LockClient client() {
        if (client == null || (!client.isOpen() && !closing)) {
            String old = client == null ? null : client.sessionId();
            client = setup.opener().get();
            if (old != null) {
                LOG.warn("session {} is gone; continuing in a new session {}", old, client.sessionId());
            }
        }
        return client;
    }

    private static void need(String[] w, int n, String usage) {
        if (w.length < n) {
            throw new InvalidArgumentException("usage: " + usage);
        }
    }

    private void contend(String name, long holdMillis) {
        PrintStream o = out;
        LockClient c = client();
        Thread t = new Thread(
                () -> {
                    Ops.Acquired a = ops.acquire(Workload.PHASE, c, name, Op.Kind.LOCK, 0, true, 0, null);
                    if (a.held() == null) {
                        say(o, "CONTENDED FAIL " + a.result().why());
                        return;
                    }
                    say(o, "CONTENDED OK " + a.held().token());
                    // The hold itself, asking the lease isValid() every 200 ms: each true answer is a
                    // VALID notice, so a hold that outlives what the service granted shows.
                    long end = System.nanoTime() + holdMillis * 1_000_000L;
                    try {
                        for (long left = holdMillis; left > 0; left = (end - System.nanoTime()) / 1_000_000L) {
                            Thread.sleep(Math.min(200, left));
                            ops.probe(Workload.PHASE, a.held());
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    ops.release(Workload.PHASE, a.held());
                },
                "contend-" + name);
        t.setDaemon(true);
        t.start();
    }

    private static void say(PrintStream out, String line) {
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }

    // ------------------------------------------------------------------------------ process

    /** See the class comment for the options. Exits 0 after {@code close}, 1 on a failure to start, 2 on bad options. */
    public static void main(String[] args) throws Exception {
        PrintStream protocol = System.out;
        System.setOut(System.err); // nothing but protocol lines on stdout
        Map<String, String> o;
        try {
            o = ClientArgs.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(ClientArgs.USAGE);
            System.exit(2);
            return;
        }
        String id = o.get("id");
        String uri = o.get("uri");
        Duration ttl = ClientArgs.duration(o.get("ttl"));
        // A worker opens a new client after its session expired and records each client's history:
        // a client that renews by itself (ADR 0004) would blur that record, so it ends with its session.
        ClientOptions.Builder b =
                ClientOptions.builder().clientName(id).sessionTtl(ttl).renewSessions(false);
        if (o.containsKey("request-timeout")) {
            b.requestTimeout(ClientArgs.duration(o.get("request-timeout")));
        }
        ClientOptions options = b.build();
        Duration bound = options.requestTimeout().plusMillis(500);
        boolean isIntruder = o.containsKey("intruder");
        int code;
        try (History.Writer history = new History.Writer(Path.of(o.get("history")));
                ProtectedStore fenced = ClientArgs.openStore(o.get("fenced"));
                ProtectedStore unfenced = ClientArgs.openStore(o.get("unfenced"))) {
            Setup setup = new Setup(
                    id,
                    () -> LockClient.open(uri, options),
                    fenced,
                    unfenced,
                    Long.parseLong(o.get("seed")),
                    ttl,
                    bound,
                    isIntruder ? () -> Intruder.serviceFor(uri, options.requestTimeout()) : null,
                    o.containsKey("multi-locks"),
                    o.containsKey("elections"),
                    o.containsKey("observe") ? List.of(o.get("observe").split(",")) : List.of(),
                    o.containsKey("keys"),
                    o.get("bug"),
                    () -> LockClient.open(
                            uri, options.toBuilder().renewSessions(true).build()));
            code = new ClientMain(setup, new Recorder(id, history))
                    .serve(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), protocol);
        }
        System.exit(code);
    }
}
