package io.holdfast.testkit;

import static org.awaitility.Awaitility.await;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.DistributedLock;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * What every group of contract tests shares: the fixture, unique lock names per test, clients and
 * threads that are cleaned up after each test, capability switches and bounded waits.
 *
 * <p>Every test gets the prefix {@code holdfast-contract/<random>/<test method>/} for its names, so
 * tests never meet on a shared store, and an operator can tell where a leftover lock came from.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
abstract class ContractSupport {
    /** How long something that should happen at once (a grant, a failure) may take: a few round trips. */
    static final Duration PROMPTLY = Duration.ofSeconds(5);

    /** The wait given to acquires that are expected to be granted, long enough never to expire. */
    static final Duration LONG_WAIT = Duration.ofSeconds(30);

    /**
     * Without {@link Capability#INSPECT} the suite cannot see that a request has reached the
     * store's queue; it then waits this long after sending a request before sending the next one,
     * only to order arrivals. Correctness never depends on it: a too-short gap would at worst
     * make a fairness test fail, never let a broken provider pass.
     */
    static final Duration ARRIVAL_GAP = Duration.ofMillis(200);

    private final LockProviderContract suite;
    private final List<LockClient> clients = new CopyOnWriteArrayList<>();
    private final List<Background<?>> background = new CopyOnWriteArrayList<>();
    private ProviderFixture fixture;
    private String prefix;
    private LockClient observer;
    private int clientCount;

    ContractSupport(LockProviderContract suite) {
        this.suite = suite;
    }

    @BeforeEach
    final void setUpContract(TestInfo info) {
        fixture = Objects.requireNonNull(suite.fixture(), "fixture() returned null");
        String test = info.getTestMethod().map(Method::getName).orElse("test");
        byte[] random = new byte[6];
        ThreadLocalRandom.current().nextBytes(random);
        prefix = "holdfast-contract/" + HexFormat.of().formatHex(random) + "/" + test + "/";
    }

    @AfterEach
    final void tearDownContract() throws InterruptedException {
        List<Throwable> problems = new ArrayList<>();
        for (LockClient client : clients) {
            try {
                client.close();
            } catch (RuntimeException e) {
                problems.add(e);
            }
        }
        clients.clear();
        for (Background<?> b : background) {
            b.stop(Duration.ofSeconds(2));
            if (b.thread().isAlive()) {
                problems.add(new AssertionError(b.thread().getName() + " still runs after the test, "
                        + "its clients closed and itself interrupted"));
            }
        }
        background.clear();
        if (!problems.isEmpty()) {
            AssertionError error = new AssertionError("cleaning up after the test failed");
            problems.forEach(error::addSuppressed);
            throw error;
        }
    }

    // ------------------------------------------------------------------------------ the fixture

    final ProviderFixture fixture() {
        return fixture;
    }

    final boolean has(Capability capability) {
        return fixture.capabilities().contains(capability);
    }

    /** Skips the test, visibly, unless the provider declares every one of these capabilities. */
    final void assumeCapability(Capability... capabilities) {
        for (Capability c : capabilities) {
            Assumptions.assumeTrue(has(c), () -> "the provider does not declare " + c);
        }
    }

    /** Crashes the client, or skips the test if the provider cannot simulate a crash. */
    final void crash(LockClient client) {
        try {
            fixture.crash(client);
        } catch (UnsupportedOperationException e) {
            Assumptions.abort("the provider cannot simulate a crashed client: " + e.getMessage());
        }
    }

    /** How long a crashed client's session takes to expire, with room for detection and grant. */
    final Duration expiryBound() {
        return fixture.shortSessionTtl().multipliedBy(2).plus(PROMPTLY);
    }

    // ------------------------------------------------------------------------------ names, clients

    /** A name unique to this test. */
    final String name(String suffix) {
        return prefix + suffix;
    }

    final String prefix() {
        return prefix;
    }

    /**
     * Options with a client name unique within the test and a connect timeout of {@link
     * #LONG_WAIT}; the provider's defaults otherwise. No contract test is about how long opening a
     * client may take, and on CI's saturated machine an in-process server once left a session's
     * opening unanswered for the default 5 s (stop 64, GrpcOverLocalNodeContractTest, on Temurin
     * 25 beside the fault scenarios): a test then failed before it had begun.
     */
    final ClientOptions.Builder options() {
        return ClientOptions.builder().clientName("contract-" + (++clientCount)).connectTimeout(LONG_WAIT);
    }

    /** A new client with default options, closed after the test. */
    final LockClient open() {
        return open(options().build());
    }

    /** A new client with the provider's shortest session TTL, for expiry tests. */
    final LockClient openShortLived() {
        return open(options().sessionTtl(fixture.shortSessionTtl()).build());
    }

    final LockClient open(ClientOptions options) {
        LockClient client = Objects.requireNonNull(fixture.open(options), "fixture.open returned null");
        clients.add(client);
        return client;
    }

    /** A client of its own that tests use to look at the store (probe names, describe). */
    final LockClient observer() {
        if (observer == null || !clients.contains(observer)) {
            observer = open(options().clientName("contract-observer").build());
        }
        return observer;
    }

    // ------------------------------------------------------------------------------ threads, waits

    /** Runs {@code body} on a new thread of its own; the thread is stopped after the test. */
    final <T> Background<T> inBackground(String what, Callable<T> body) {
        Background<T> b = new Background<>(prefix + what, body);
        background.add(b);
        return b.start();
    }

    /** Awaitility with a short poll interval, bounded by {@code atMost}. */
    static ConditionFactory eventually(Duration atMost) {
        return await().pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(10))
                .atMost(atMost);
    }

    /**
     * Returns once the store's queue for {@code name} has at least {@code waiters} waiters. With
     * {@link Capability#INSPECT} this is observed; without it the suite can only give the request
     * time to arrive ({@link #ARRIVAL_GAP}).
     */
    final void awaitQueued(String name, int waiters) {
        if (has(Capability.INSPECT)) {
            eventually(PROMPTLY)
                    .alias("the queue of " + name + " to reach " + waiters + " waiters")
                    .until(() -> waitersOf(name) >= waiters);
        } else {
            LockSupport.parkNanos(ARRIVAL_GAP.toNanos()); // orders arrivals only; see ARRIVAL_GAP
        }
    }

    final int waitersOf(String name) {
        Optional<LockInfo> info = observer().admin().describe(name);
        return info.map(i -> i.waiters().size()).orElse(0);
    }

    // ------------------------------------------------------------------------------ probes

    /**
     * Whether another session could take the lock right now: tries it with the observer client and
     * gives it straight back.
     */
    static boolean isFree(DistributedLock probe) {
        Optional<Lease> lease = probe.tryAcquire();
        lease.ifPresent(Lease::release);
        return lease.isPresent();
    }

    /** Takes a lock that must be free at once. */
    static Lease take(DistributedLock lock) {
        return lock.tryAcquire().orElseThrow(() -> new AssertionError(lock.name() + " should be free"));
    }

    /** What an asynchronous call failed with, whether it threw at once or returned a failed future. */
    static Throwable failureOf(Supplier<? extends CompletableFuture<?>> call) {
        CompletableFuture<?> future;
        try {
            future = call.get();
        } catch (RuntimeException e) {
            return e;
        }
        return Futures.failure(future, PROMPTLY);
    }

    /** The capabilities as a sorted list, for messages. */
    static List<Capability> sorted(Set<Capability> capabilities) {
        List<Capability> list = new ArrayList<>(capabilities);
        list.sort(null);
        return list;
    }

    static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }
}
