package io.holdfast.server.backup;

import io.holdfast.Ticker;
import io.holdfast.internal.Causes;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.server.node.NodeParts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Backups on a schedule ({@code holdfast server --backup-every DURATION --backup-dir D
 * --backup-keep N}): every DURATION, the node that leads then writes a backup of the table into D
 * ({@link BackupFile}), named {@code holdfast-<cluster id>-<UTC time>.hfbk}, and keeps the newest N
 * of its cluster's backups there. D is a {@link BackupStore}: a directory, or a bucket's prefix in
 * an S3-compatible store ({@code s3://BUCKET/PREFIX}); with a {@link BackupKey} each backup is
 * encrypted before it is written.
 *
 * <p><b>Why the leader only.</b> Every member runs the schedule with the same options, but a member
 * whose turn comes while it does not lead skips it: the leader's copy is the one taken after a
 * read barrier (it holds every acknowledged write), a cluster makes one backup per interval, not
 * one per member, and D can be one shared directory. After a change of leader the new leader's
 * next turn comes within one interval. Give every member the same D on shared storage, or accept
 * that backups land on whichever machine led.
 *
 * <p><b>Guarantees.</b> One log line per backup (file, size, log index, time taken). A file appears
 * whole or not at all (written next to its name, synced, renamed). A failed backup (no quorum, a
 * full disk) is logged in one line and counted ({@link #failures()}), and the node goes on serving;
 * the next turn tries again. The turns run on the node's injected {@link Ticker}, the names on its
 * wall {@link Clock}: tests move both.
 *
 * <p><b>Not guaranteed.</b> A turn missed while the node was down or not leading is not made up.
 * Files of other clusters in D are neither counted nor deleted.
 *
 * <p>Failure story: D's disk fills. Each turn logs "Scheduled backup into D failed (3 failures so
 * far): … No space left on device", the partial file is deleted, the cluster keeps serving, and the
 * newest N good backups stay.
 */
public final class BackupSchedule implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackupSchedule.class);

    /** UTC, sortable, milliseconds: two backups never share a name. */
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final NodeParts node;
    private final long everyNanos;
    private final BackupStore store;
    private final BackupKey key;
    private final int keep;
    private final Ticker ticker;
    private final Clock wall;
    private final ScheduledExecutorService timer;
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong taken = new AtomicLong();
    private long next;

    /** A schedule into the local directory {@code dir}, unencrypted (today's files). */
    public BackupSchedule(
            NodeParts node, Duration every, Path dir, int keep, Ticker ticker, Clock wall, boolean thread) {
        this(node, every, new LocalStore(dir), null, keep, ticker, wall, thread);
    }

    /**
     * A schedule into {@code store}, each backup encrypted with {@code key} (null: not encrypted).
     * The schedule closes the store as it closes.
     *
     * @param thread whether a timer thread runs the turns (false: tests call {@link #runDue})
     */
    public BackupSchedule(
            NodeParts node,
            Duration every,
            BackupStore store,
            BackupKey key,
            int keep,
            Ticker ticker,
            Clock wall,
            boolean thread) {
        if (every.isNegative() || every.isZero()) {
            throw new IllegalArgumentException("--backup-every must be more than 0, not " + every);
        }
        if (keep < 1) {
            throw new IllegalArgumentException("--backup-keep must be 1 or more, not " + keep);
        }
        this.node = node;
        this.everyNanos = every.toNanos();
        this.store = store;
        this.key = key;
        this.keep = keep;
        this.ticker = ticker;
        this.wall = wall;
        this.next = ticker.nanos() + everyNanos;
        if (thread) {
            long check = Math.max(1, Math.min(every.toMillis(), 1_000));
            this.timer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("holdfast-backups"));
            timer.scheduleWithFixedDelay(this::runDue, check, check, TimeUnit.MILLISECONDS);
        } else {
            this.timer = null;
        }
    }

    /**
     * Starts the schedule on {@code node} (the node's ticker, the system's wall clock for the files'
     * names, one daemon thread); the caller closes it with the node.
     *
     * @throws IllegalArgumentException for an interval of zero or less, or {@code keep} below 1
     * @throws IOException when {@code dir} cannot be created
     */
    public static BackupSchedule start(NodeParts node, Duration every, Path dir, int keep) throws IOException {
        Files.createDirectories(dir);
        return start(node, every, new LocalStore(dir), null, keep);
    }

    /**
     * Starts the schedule on {@code node} into {@code store}, encrypted with {@code key} (null: not
     * encrypted), as {@link #start(NodeParts, Duration, Path, int)} does.
     */
    public static BackupSchedule start(NodeParts node, Duration every, BackupStore store, BackupKey key, int keep) {
        BackupSchedule schedule =
                new BackupSchedule(node, every, store, key, keep, node.ticker(), node.wallClock(), true);
        node.metrics().backups(schedule::taken, schedule::failures);
        LOG.info(
                "Backups every {} into {} while this node leads, keeping the newest {}{}",
                every,
                store.locate(""),
                keep,
                key == null ? "" : ", encrypted (AES-256-GCM)");
        return schedule;
    }

    /**
     * Takes the backup whose turn has come, if this node leads; what the timer runs, and tests after
     * moving the ticker. The next turn is one interval after this one (turns missed are not made up).
     *
     * @return where the backup was written (a path, or an {@code s3://} address), if one was
     */
    public synchronized Optional<String> runDue() {
        long now = ticker.nanos();
        if (now - next < 0) {
            return Optional.empty();
        }
        next = now + everyNanos;
        if (!node.leads()) {
            return Optional.empty();
        }
        try {
            return Optional.of(backUp());
        } catch (Exception e) {
            long n = failures.incrementAndGet();
            LOG.warn(
                    "Scheduled backup into {} failed ({} {} so far): {}",
                    store.locate(""),
                    n,
                    n == 1 ? "failure" : "failures",
                    Causes.rootMessage(e));
            return Optional.empty();
        }
    }

    private String backUp() throws Exception {
        long started = ticker.nanos();
        Instant at = wall.instant();
        UUID id = node.identity().current();
        String prefix = "holdfast-" + (id == null ? "unidentified" : id) + "-";
        String name = prefix + STAMP.format(at) + ".hfbk";
        BackupFile.Header[] header = new BackupFile.Header[1];
        BackupFile.Writer plain = out -> {
            try {
                header[0] = Backups.take(node, at.toEpochMilli(), out, () -> {});
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IOException(Causes.rootMessage(e), e);
            }
            return header[0].tableBytes();
        };
        long bytes = store.put(name, key == null ? plain : out -> key.encrypt(out, plain));
        taken.incrementAndGet();
        int deleted = prune(prefix);
        LOG.info(
                "Scheduled backup {}: {} bytes at log index {} in {} ms ({} deleted, the newest {} kept)",
                store.locate(name),
                bytes,
                header[0].index(),
                TimeUnit.NANOSECONDS.toMillis(ticker.nanos() - started),
                deleted,
                keep);
        return store.locate(name);
    }

    /**
     * Deletes this cluster's backups in the store beyond the newest {@code keep}: the names sort by
     * the UTC time in them.
     */
    private int prune(String prefix) throws IOException {
        List<String> mine = new ArrayList<>(store.list(prefix));
        mine.removeIf(name -> !name.endsWith(".hfbk"));
        mine.sort(Comparator.<String>naturalOrder().reversed());
        int deleted = 0;
        for (String old : mine.subList(Math.min(keep, mine.size()), mine.size())) {
            store.delete(old);
            deleted++;
        }
        return deleted;
    }

    /** Backups that failed since the schedule started. */
    public long failures() {
        return failures.get();
    }

    /** Backups written since the schedule started. */
    public long taken() {
        return taken.get();
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
        store.close();
    }
}
