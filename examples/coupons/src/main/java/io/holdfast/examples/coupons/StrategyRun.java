package io.holdfast.examples.coupons;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * One strategy's run of the demo, step by step: reset the coupon tables, start the instances ({@link
 * InstanceProcess}) and wait until each is ready, start them together, read what each reports (with {@link
 * CouponsDemo.Options#pauseHolder}, stop the victim at its write past its lease and session TTL, then
 * resume it), wait for every instance to exit, audit the database, and add up what the instances measured.
 */
final class StrategyRun {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
    /** How long the instances have to finish their requests. */
    static final Duration RUN_TIMEOUT = Duration.ofMinutes(15);

    private static final Duration PROGRESS_TIMEOUT = Duration.ofSeconds(30);

    private StrategyRun() {}

    static CouponsDemo.Result run(Strategy strategy, CouponsDemo.Options o, Infrastructure infra, PrintWriter out)
            throws IOException, InterruptedException {
        try (Connection c = infra.connect()) {
            CouponDb.reset(c, o.campaigns(), o.stock(), o.perUser());
        } catch (SQLException e) {
            throw new IllegalStateException("cannot set up the coupon tables: " + e.getMessage(), e);
        }
        out.printf(
                "%n%s: %s%s%n",
                strategy.flag(),
                strategy.summary(),
                strategy == Strategy.PESSIMISTIC && !o.fencing() ? " (fencing check OFF)" : "");
        out.flush();
        Path logs = o.workDir().resolve(strategy.flag());
        Files.createDirectories(logs);
        int victim = o.pauseHolder() ? 1 : -1;
        List<InstanceProcess> children = new ArrayList<>();
        try {
            for (int i = 0; i < o.instances(); i++) {
                children.add(InstanceProcess.start(
                        i,
                        command(strategy, o, infra, i, i == victim),
                        infra.dbPassword(),
                        logs.resolve("instance-" + i + ".log")));
            }
            for (InstanceProcess child : children) {
                child.expect("READY", READY_TIMEOUT);
            }
            for (InstanceProcess child : children) {
                child.send("start");
            }
            long started = System.nanoTime();
            long deadline = started + RUN_TIMEOUT.toNanos();
            Map<InstanceProcess, InstanceResult> results = new java.util.LinkedHashMap<>();
            CouponsDemo.Pause pause = null;
            while (results.size() < children.size()) {
                boolean quiet = true;
                for (InstanceProcess child : children) {
                    if (results.containsKey(child)) {
                        continue;
                    }
                    String line = child.poll("finish its requests", deadline);
                    if (line == null) {
                        continue;
                    }
                    quiet = false;
                    if (line.startsWith(InstanceResult.PREFIX)) {
                        results.put(child, InstanceResult.decode(line));
                    } else if (line.startsWith("PAUSE ")) {
                        pause = pauseVictim(child, line.substring("PAUSE ".length()), o, infra, out);
                    } else if (line.startsWith("RESUMED ") && pause != null) {
                        pause = new CouponsDemo.Pause(
                                pause.instance(),
                                pause.heldWhat(),
                                pause.stoppedMillis(),
                                line.substring("RESUMED ".length()));
                    } else {
                        throw child.failure("printed an unexpected line: " + line);
                    }
                }
                if (quiet) {
                    Thread.sleep(5);
                }
            }
            long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            for (InstanceProcess child : children) {
                child.awaitExit();
            }
            if (victim >= 0 && pause == null) {
                out.println("  pause: the victim never got to write (no stock left when it came to it)");
            }
            CouponDb.Audit audit;
            try (Connection c = infra.connect()) {
                audit = CouponDb.audit(c);
            } catch (SQLException e) {
                throw new IllegalStateException("cannot audit the coupon tables: " + e.getMessage(), e);
            }
            return merge(strategy, audit, new ArrayList<>(results.values()), elapsed, pause);
        } finally {
            for (InstanceProcess child : children) {
                child.destroy();
            }
        }
    }

    /**
     * The victim waits at its write: stop it, keep it stopped past its lease and session TTL until another
     * instance has redeemed, resume it, let it write.
     */
    private static CouponsDemo.Pause pauseVictim(
            InstanceProcess victim, String what, CouponsDemo.Options o, Infrastructure infra, PrintWriter out)
            throws InterruptedException {
        out.printf("  pause: instance %d is about to write (%s); SIGSTOP%n", victim.index, what);
        out.flush();
        long before = redemptions(infra);
        victim.signal("STOP");
        long stopped = System.nanoTime();
        Duration pastLease = (o.lease().compareTo(o.sessionTtl()) > 0 ? o.lease() : o.sessionTtl()).plusMillis(500);
        long deadline = stopped + pastLease.plus(PROGRESS_TIMEOUT).toNanos();
        while (System.nanoTime() - stopped < pastLease.toNanos()
                || (redemptions(infra) <= before && System.nanoTime() < deadline)) {
            Thread.sleep(50);
        }
        long stoppedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
        long after = redemptions(infra);
        out.printf(
                Locale.ROOT,
                "  pause: instance %d stopped for %.1f s (lease %s, session TTL %s); %d redemptions by others meanwhile;"
                        + " SIGCONT%n",
                victim.index,
                stoppedMillis / 1000.0,
                Durations.text(o.lease()),
                Durations.text(o.sessionTtl()),
                after - before);
        out.flush();
        victim.signal("CONT");
        victim.send("go");
        return new CouponsDemo.Pause(victim.index, what, stoppedMillis, null);
    }

    private static long redemptions(Infrastructure infra) {
        try (Connection c = infra.connect()) {
            return CouponDb.count(c, "redemptions");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot count redemptions: " + e.getMessage(), e);
        }
    }

    private static List<String> command(
            Strategy strategy, CouponsDemo.Options o, Infrastructure infra, int index, boolean victim) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-Xmx256m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(CouponInstance.class.getName());
        String[][] args = {
            {"instance", Integer.toString(index)},
            {"instances", Integer.toString(o.instances())},
            {"victim", Boolean.toString(victim)},
            {"threads", Integer.toString(o.threads())},
            {"strategy", strategy.flag()},
            {"work-nanos", Long.toString(o.work().toNanos())},
            {"lease-ms", Long.toString(o.lease().toMillis())},
            {"lock-wait-ms", Long.toString(o.lockWait().toMillis())},
            {"max-attempts", Integer.toString(o.maxAttempts())},
            {"fencing", Boolean.toString(o.fencing())},
            {"seed", Long.toString(o.seed())},
            {"users", Integer.toString(o.users())},
            {"campaigns", Integer.toString(o.campaigns())},
            {"per-user", Integer.toString(o.perUser())},
            {"db-url", infra.instanceDbUrl()},
            {"db-user", infra.dbUser()},
            {"ttl-ms", Long.toString(o.sessionTtl().toMillis())},
            {"holdfast", infra.holdfastUri()},
        };
        for (String[] kv : args) {
            cmd.add("--" + kv[0]);
            cmd.add(kv[1]);
        }
        return cmd;
    }

    private static CouponsDemo.Result merge(
            Strategy strategy,
            CouponDb.Audit audit,
            List<InstanceResult> results,
            long elapsed,
            CouponsDemo.Pause pause) {
        Map<Outcome, Long> outcomes = new EnumMap<>(Outcome.class);
        Histogram all = InstanceResult.histogram();
        Histogram redeemed = InstanceResult.histogram();
        long conflicts = 0;
        long lockWait = 0;
        long lockHeld = 0;
        long grants = 0;
        int reopened = 0;
        for (InstanceResult r : results) {
            for (Outcome o : Outcome.values()) {
                outcomes.merge(o, r.count(o), Long::sum);
            }
            conflicts += r.conflicts();
            lockWait += r.lockWaitMicros();
            lockHeld += r.lockHeldMicros();
            grants += r.grants();
            reopened += r.reopened();
            all.add(r.all());
            redeemed.add(r.redeemed());
        }
        return new CouponsDemo.Result(
                strategy, audit, outcomes, conflicts, lockWait, lockHeld, grants, reopened, elapsed, all, redeemed,
                pause);
    }
}
