package io.holdfast.spring;

import io.holdfast.LockClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.beans.factory.ObjectProvider;

/**
 * Micrometer meters for Holdfast, bound to the application's registry by Spring Boot:
 *
 * <ul>
 *   <li>{@code holdfast.client.session.open}: 1 while the client is open and its session alive, else 0;
 *   <li>{@code holdfast.lock.acquire} (timer; tags {@code source} = job|registry, {@code outcome} =
 *       acquired|busy|error): every acquisition made by a job or the lock registry, waiting included;
 *   <li>{@code holdfast.lock.held} (gauge): holds taken through them and not yet given back;
 *   <li>{@code holdfast.lock.lost} (counter; tag {@code source}): holds lost while held (a job's as soon as
 *       the client learns of it; a registry lock's when its {@code unlock()} finds it, a {@code Lock} having
 *       no loss callback);
 *   <li>{@code holdfast.job.runs} (counter; tags {@code job}, {@code result} = ran|skipped).
 * </ul>
 *
 * <p>Not measured: locks the application takes directly on the {@link LockClient}, and runs of {@link
 * io.holdfast.spring.jobs.HoldfastJobs#runExclusively} unless this binder is passed to it. The server's own
 * metrics (its {@code /metrics} port) cover every client.
 */
public class HoldfastMetrics implements MeterBinder, LockObserver {
    private final ObjectProvider<LockClient> client;
    private final AtomicInteger held = new AtomicInteger();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private volatile MeterRegistry registry;

    public HoldfastMetrics(ObjectProvider<LockClient> client) {
        this.client = client;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("holdfast.client.session.open", this, m -> m.sessionOpen() ? 1 : 0)
                .description("1 while the Holdfast client is open and its session alive")
                .register(registry);
        Gauge.builder("holdfast.lock.held", held, AtomicInteger::get)
                .description("Locks held through Holdfast jobs and the lock registry")
                .register(registry);
    }

    private boolean sessionOpen() {
        LockClient c = client.getIfAvailable();
        return c != null && c.isOpen();
    }

    @Override
    public void acquisition(Source source, Outcome outcome, long nanos) {
        if (outcome == Outcome.ACQUIRED) {
            held.incrementAndGet();
        }
        MeterRegistry r = registry;
        if (r == null) {
            return;
        }
        String s = tag(source);
        String o = outcome.name().toLowerCase(Locale.ROOT);
        timers.computeIfAbsent(
                        s + "/" + o,
                        k -> Timer.builder("holdfast.lock.acquire")
                                .description("Acquisitions by Holdfast jobs and the lock registry, waiting included")
                                .tag("source", s)
                                .tag("outcome", o)
                                .register(r))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void released(Source source) {
        held.decrementAndGet();
    }

    @Override
    public void lost(Source source) {
        count("holdfast.lock.lost", "source", tag(source), null, null);
    }

    @Override
    public void jobRun(String job, boolean ran) {
        count("holdfast.job.runs", "job", job, "result", ran ? "ran" : "skipped");
    }

    private void count(String name, String k1, String v1, String k2, String v2) {
        MeterRegistry r = registry;
        if (r == null) {
            return;
        }
        counters.computeIfAbsent(name + "/" + v1 + "/" + v2, k -> {
                    Counter.Builder b = Counter.builder(name).tag(k1, v1);
                    if (k2 != null) {
                        b.tag(k2, v2);
                    }
                    return b.register(r);
                })
                .increment();
    }

    private static String tag(Source source) {
        return source.name().toLowerCase(Locale.ROOT);
    }
}
