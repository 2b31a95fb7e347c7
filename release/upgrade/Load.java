import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockLostException;
import io.holdfast.LockTimeoutException;
import io.holdfast.UnavailableException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * release/upgrade-test.sh's load: clients holding and waiting on locks while the cluster is rolled
 * from release N to N+1. Run as a source file on the class path of release N's holdfast.jar:
 *
 * <pre>java -cp holdfast.jar Load.java BACKEND_URI DIR</pre>
 *
 * <ul>
 *   <li>a long holder takes {@code upgrade/long} at the start and keeps it until DIR/stop exists: its
 *       lease must stay valid throughout, and its release must be answered;
 *   <li>a waiter asks for {@code upgrade/long} at the start and waits through the whole roll: it gets
 *       the lock once the holder lets go, with a higher fencing token;
 *   <li>four workers, each a client of its own, two per lock {@code upgrade/w0} and {@code
 *       upgrade/w1}, take their lock, hold it 200 ms and release it, over and over: each grant's token
 *       must exceed the one before on that name, no two hold a name at once, no lease is lost;
 *   <li>a victim (client name {@code upgrade-victim}) holds {@code upgrade/victim}: the session that
 *       the script ends with {@code holdfast sessions end} once the cluster allows it; its loss is
 *       expected and reported, not counted.
 * </ul>
 *
 * <p>An unavailable service or a wait that times out (an election during a restart) is retried and
 * counted, never a failure; a lease that is lost is. Every second it writes DIR/progress (one line:
 * {@code grants=N lost=N overlaps=N falling=N retries=N maxToken=N}); at DIR/stop it lets go, writes
 * DIR/result and exits 0 if nothing was lost, no two held a lock at once, and tokens rose, else 1.
 */
public final class Load {
    private static final Duration TTL = Duration.ofSeconds(20);

    private final String uri;
    private final Path dir;
    private final AtomicLong grants = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private final AtomicLong overlaps = new AtomicLong();
    private final AtomicLong falling = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong maxToken = new AtomicLong();
    private final Map<String, Long> lastToken = new ConcurrentHashMap<>();
    private final Map<String, AtomicBoolean> held = new ConcurrentHashMap<>();
    private final List<String> problems = new ArrayList<>();

    private Load(String uri, Path dir) {
        this.uri = uri;
        this.dir = dir;
    }

    public static void main(String[] args) throws Exception {
        Load load = new Load(args[0], Path.of(args[1]));
        System.exit(load.run() ? 0 : 1);
    }

    private boolean stopping() {
        return Files.exists(dir.resolve("stop"));
    }

    private synchronized void problem(String what) {
        problems.add(what);
        System.err.println("load: " + what);
    }

    private LockClient open(String name) {
        ClientOptions options =
                ClientOptions.builder().clientName(name).sessionTtl(TTL).build();
        return LockClient.open(uri, options);
    }

    /** Records a grant: its token must exceed the last on that name, and nobody else holds it. */
    private void granted(String name, Lease lease) {
        long token = lease.fencingToken();
        grants.incrementAndGet();
        maxToken.accumulateAndGet(token, Math::max);
        if (!held.computeIfAbsent(name, n -> new AtomicBoolean()).compareAndSet(false, true)) {
            overlaps.incrementAndGet();
            problem(name + " granted with token " + token + " while another client held it");
        }
        Long before = lastToken.put(name, token);
        if (before != null && token <= before) {
            falling.incrementAndGet();
            problem(name + " granted with token " + token + " after " + before + ": not rising");
        }
        lease.onLost(e -> {
            lost.incrementAndGet();
            problem(name + " (token " + token + ") lost: " + e.getMessage());
        });
    }

    /** Lets go of a grant; a loss found here counts, an answer lost to an election does not. */
    private void letGo(String name, Lease lease) {
        if (!lease.isValid()) {
            problem(name + " (token " + lease.fencingToken() + ") no longer valid at its release");
        }
        held.get(name).set(false);
        try {
            lease.release();
        } catch (LockLostException e) {
            problem(name + " (token " + lease.fencingToken() + ") lost at its release: " + e.getMessage());
        } catch (UnavailableException e) {
            retries.incrementAndGet(); // the client goes on sending the release in the background
        }
    }

    /** Waits for NAME, through elections and restarts, until it is granted or the run stops. */
    private Lease take(LockClient client, String name, Duration wait) throws InterruptedException {
        while (!stopping()) {
            try {
                return client.lock(name).acquire(wait);
            } catch (LockTimeoutException | UnavailableException e) {
                retries.incrementAndGet();
                Thread.sleep(100);
            }
        }
        return null;
    }

    private void worker(int i) {
        String name = "upgrade/w" + (i % 2);
        try (LockClient client = open("upgrade-worker-" + i)) {
            while (!stopping()) {
                Lease lease = take(client, name, Duration.ofSeconds(30));
                if (lease == null) {
                    break;
                }
                granted(name, lease);
                Thread.sleep(200);
                letGo(name, lease);
            }
        } catch (Exception e) {
            problem("worker " + i + " stopped: " + e);
        }
    }

    private boolean run() throws Exception {
        LockClient holderClient = open("upgrade-holder");
        Lease longLease = take(holderClient, "upgrade/long", Duration.ofSeconds(60));
        granted("upgrade/long", longLease);
        long longToken = longLease.fencingToken();
        System.out.println("load: upgrade/long held with token " + longToken);

        LockClient victimClient = open("upgrade-victim");
        Lease victim = take(victimClient, "upgrade/victim", Duration.ofSeconds(60));
        AtomicBoolean victimLost = new AtomicBoolean();
        victim.onLost(e -> {
            victimLost.set(true);
            System.out.println("load: upgrade/victim lost, as expected once its session is ended: " + e.getMessage());
        });

        long[] waiterToken = {0};
        LockClient waiterClient = open("upgrade-waiter");
        Thread waiter = new Thread(() -> {
            try {
                Lease l = take(waiterClient, "upgrade/long", Duration.ofMinutes(30));
                if (l != null) {
                    waiterToken[0] = l.fencingToken();
                    granted("upgrade/long", l);
                    letGo("upgrade/long", l);
                }
            } catch (Exception e) {
                problem("the waiter stopped: " + e);
            }
        });
        waiter.start();
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int n = i;
            Thread t = new Thread(() -> worker(n));
            t.start();
            workers.add(t);
        }
        while (!stopping()) {
            Files.writeString(dir.resolve("progress.tmp"), progress() + "\n");
            Files.move(dir.resolve("progress.tmp"), dir.resolve("progress"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Thread.sleep(1000);
        }
        for (Thread t : workers) {
            t.join(60_000);
        }
        // The long holder lets go only now: the waiter has waited through the whole roll.
        letGo("upgrade/long", longLease);
        waiter.join(60_000);
        if (waiterToken[0] <= longToken) {
            problem("the waiter got upgrade/long with token " + waiterToken[0] + ", not above the holder's " + longToken);
        } else {
            System.out.println("load: the waiter got upgrade/long with token " + waiterToken[0] + " > " + longToken);
        }
        System.out.println("load: victim lost its lock: " + victimLost.get());
        holderClient.close();
        waiterClient.close();
        victimClient.close();
        String verdict = (problems.isEmpty() ? "OK " : "FAILED ") + progress() + " victimLost=" + victimLost.get()
                + " longToken=" + longToken + " waiterToken=" + waiterToken[0];
        try (PrintStream out = new PrintStream(Files.newOutputStream(dir.resolve("result")))) {
            out.println(verdict);
            problems.forEach(out::println);
        }
        System.out.println("load: " + verdict);
        return problems.isEmpty();
    }

    private String progress() {
        return "grants=" + grants + " lost=" + lost + " overlaps=" + overlaps + " falling=" + falling + " retries="
                + retries + " maxToken=" + maxToken;
    }
}
