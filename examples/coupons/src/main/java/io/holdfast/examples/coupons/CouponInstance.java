package io.holdfast.examples.coupons;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import org.HdrHistogram.Histogram;

/**
 * One instance of the coupon service, as its own process: the demo's driver ({@link CouponsDemo}) starts
 * several, each with its own connection pool and its own Holdfast session, all over one database.
 *
 * <p>It talks to the driver in lines: it prints {@code READY} once connected and waits for {@code start} on
 * stdin; then serves its share of the {@link Workload} with {@code --threads} threads; prints {@code RESULT
 * ...} ({@link InstanceResult}) and exits 0. The victim instance ({@code --victim true}, one thread) also
 * prints {@code PAUSE ...} the first time it is about to write, waits for {@code go} (the driver stops and
 * resumes it in between), then prints {@code RESUMED ...} with what became of that write.
 *
 * <p>Arguments are {@code --name value} pairs, all required; the database password comes from the
 * environment variable {@code HOLDFAST_COUPONS_DB_PASSWORD}, so that it is not on a command line.
 */
public final class CouponInstance {
    static final String PASSWORD_ENV = "HOLDFAST_COUPONS_DB_PASSWORD";

    private CouponInstance() {}

    public static void main(String[] argv) throws Exception {
        // stdout is the channel to the driver: anything else that prints there (a library, a log
        // configuration writing to the console) goes to stderr, which the driver keeps as the log.
        PrintStream out = System.out;
        System.setOut(System.err);
        Map<String, String> args = parse(argv);
        BlockingQueue<String> stdin = readStdin();

        int instance = Integer.parseInt(arg(args, "instance"));
        int instances = Integer.parseInt(arg(args, "instances"));
        boolean victim = Boolean.parseBoolean(arg(args, "victim"));
        int threads = victim ? 1 : Integer.parseInt(arg(args, "threads"));
        Strategy strategy = Strategy.parse(arg(args, "strategy"));
        CouponService.Settings settings = new CouponService.Settings(
                strategy,
                instance,
                Duration.ofNanos(Long.parseLong(arg(args, "work-nanos"))),
                Duration.ofMillis(Long.parseLong(arg(args, "lease-ms"))),
                Duration.ofMillis(Long.parseLong(arg(args, "lock-wait-ms"))),
                Integer.parseInt(arg(args, "max-attempts")),
                Boolean.parseBoolean(arg(args, "fencing")));
        List<Workload.Request> requests = Workload.forInstance(
                Workload.all(
                        Long.parseLong(arg(args, "seed")),
                        Integer.parseInt(arg(args, "users")),
                        Integer.parseInt(arg(args, "campaigns")),
                        Integer.parseInt(arg(args, "per-user"))),
                instance,
                instances);

        HikariConfig pool = new HikariConfig();
        pool.setJdbcUrl(arg(args, "db-url"));
        pool.setUsername(args.getOrDefault("db-user", ""));
        pool.setPassword(System.getenv().getOrDefault(PASSWORD_ENV, ""));
        pool.setMaximumPoolSize(threads + 1);
        pool.setMinimumIdle(threads);
        pool.setPoolName("coupons-" + instance);
        ClientOptions clientOptions = ClientOptions.builder()
                .clientName("coupons-" + instance)
                .sessionTtl(Duration.ofMillis(Long.parseLong(arg(args, "ttl-ms"))))
                // Instances start together, each a new JVM; on a loaded machine one's first session took
                // longer than the default 5 s (CI rehearsal of 2026-11-30, load 51: "could not open a
                // session ... within the connect timeout (5s)"). The demo is about double redemptions,
                // not about how fast an instance connects.
                .connectTimeout(Duration.ofSeconds(30))
                .build();
        String holdfast = arg(args, "holdfast");

        try (HikariDataSource db = new HikariDataSource(pool);
                Clients clients = new Clients(() -> LockClient.open(holdfast, clientOptions))) {
            try (Connection warm = db.getConnection()) {
                warm.isValid(5);
            }
            PausePoint pause = victim ? new DriverPause(out, stdin) : PausePoint.NONE;
            CouponService service = new CouponService(db, clients, settings, pause);
            out.println("READY");
            out.flush();
            if (!"start".equals(stdin.poll(5, TimeUnit.MINUTES))) {
                throw new IllegalStateException("the driver never said start");
            }
            InstanceResult result = serve(service, clients, requests, threads);
            out.println(result.encode());
            out.flush();
        }
        System.exit(0);
    }

    private static InstanceResult serve(
            CouponService service, Clients clients, List<Workload.Request> requests, int threads)
            throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        AtomicLongArray counts = new AtomicLongArray(Outcome.values().length);
        Histogram all = InstanceResult.histogram();
        Histogram redeemed = InstanceResult.histogram();
        List<Thread> workers = new ArrayList<>();
        long started = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(
                    () -> {
                        Histogram mineAll = InstanceResult.histogram();
                        Histogram mineRedeemed = InstanceResult.histogram();
                        try {
                            for (int i = next.getAndIncrement(); i < requests.size(); i = next.getAndIncrement()) {
                                Workload.Request r = requests.get(i);
                                long t0 = System.nanoTime();
                                Outcome o = service.redeem(r.user(), r.campaign());
                                long micros = (System.nanoTime() - t0) / 1_000;
                                counts.incrementAndGet(o.ordinal());
                                mineAll.recordValue(micros);
                                if (o == Outcome.REDEEMED) {
                                    mineRedeemed.recordValue(micros);
                                }
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        } finally {
                            synchronized (all) {
                                all.add(mineAll);
                                redeemed.add(mineRedeemed);
                            }
                        }
                    },
                    "coupons-worker-" + t);
            workers.add(worker);
            worker.start();
        }
        for (Thread w : workers) {
            w.join();
        }
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        Map<Outcome, Long> outcomes = new EnumMap<>(Outcome.class);
        for (Outcome o : Outcome.values()) {
            outcomes.put(o, counts.get(o.ordinal()));
        }
        CouponService.Counters c = service.counters();
        synchronized (all) {
            return new InstanceResult(
                    outcomes,
                    c.conflicts.get(),
                    c.lockWaitNanos.get() / 1_000,
                    c.lockHeldNanos.get() / 1_000,
                    c.grants.get(),
                    clients.reopened(),
                    elapsed,
                    all,
                    redeemed);
        }
    }

    /** The victim's pause point: the first time only, hand over to the driver and wait for it. */
    private static final class DriverPause implements PausePoint {
        private final PrintStream out;
        private final BlockingQueue<String> stdin;
        private final AtomicBoolean used = new AtomicBoolean();
        private volatile boolean reporting;

        DriverPause(PrintStream out, BlockingQueue<String> stdin) {
            this.out = out;
            this.stdin = stdin;
        }

        @Override
        public void reached(String what) throws InterruptedException {
            if (!used.compareAndSet(false, true)) {
                return;
            }
            out.println("PAUSE " + what);
            out.flush();
            String line = stdin.poll(5, TimeUnit.MINUTES);
            if (!"go".equals(line)) {
                throw new IllegalStateException("expected go from the driver, got " + line);
            }
            reporting = true;
        }

        @Override
        public void wrote(String result) {
            if (reporting) {
                reporting = false;
                out.println("RESUMED " + result);
                out.flush();
            }
        }
    }

    private static BlockingQueue<String> readStdin() {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(
                () -> {
                    try (BufferedReader in =
                            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                        String line;
                        while ((line = in.readLine()) != null) {
                            lines.add(line.strip());
                        }
                    } catch (IOException ignored) {
                        // the driver is gone; the instance ends when its requests are done
                    }
                },
                "coupons-stdin");
        reader.setDaemon(true);
        reader.start();
        return lines;
    }

    private static Map<String, String> parse(String[] argv) {
        Map<String, String> args = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (!argv[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value pairs, got " + argv[i]);
            }
            args.put(argv[i].substring(2), argv[i + 1]);
        }
        return args;
    }

    private static String arg(Map<String, String> args, String name) {
        String v = args.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing --" + name);
        }
        return v;
    }
}
