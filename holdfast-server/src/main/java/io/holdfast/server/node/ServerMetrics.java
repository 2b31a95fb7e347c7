// Ceiling 455 lines, one idea: every meter of the node, registered and fed in one place, so that /metrics and the docs
// list one set of names.
package io.holdfast.server.node;

import io.holdfast.ErrorCode;
import io.holdfast.core.LockTable;
import io.holdfast.endpoint.AuthFailures;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.NotLeaderException;
import io.holdfast.model.Reply;
import io.holdfast.server.leadership.LeaseRefusals;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One node's metrics, in Prometheus's text format on {@code /metrics} (Micrometer). Every count is
 * this node's own: what it applied as a replica (grants, releases, expiries, refusals: the same
 * on every replica of a healthy cluster), what it served as leader (request latencies), and its
 * Raft role. Gauges of the table's size are read when scraped, at most once a second.
 *
 * <p>Names (Prometheus form): {@code holdfast_requests_seconds{command,outcome}}, {@code
 * holdfast_grants_total{waited}}, {@code holdfast_releases_total}, {@code
 * holdfast_locks_lost_total{reason}}, {@code holdfast_waits_timed_out_total}, {@code
 * holdfast_sessions_expired_total}, {@code holdfast_deadlocks_refused_total}, {@code
 * holdfast_refusals_total{reason}}, {@code holdfast_auth_failures_total{reason}}, {@code holdfast_unparsable_requests_total}, {@code holdfast_sessions}, {@code holdfast_locks}, {@code
 * holdfast_holds}, {@code holdfast_waiters}, {@code holdfast_queue_longest}, {@code holdfast_registers}, {@code
 * holdfast_register_bytes}, {@code holdfast_raft_commit_seconds}, {@code
 * holdfast_raft_leader_changes_total}, {@code holdfast_lease_check_refusals_total{request}}, {@code
 * holdfast_log_tail_repairs_total}, {@code holdfast_backups_total{outcome}}, {@code holdfast_raft_is_leader}, {@code holdfast_raft_term},
 * {@code holdfast_raft_applied_index}, {@code holdfast_raft_member_last_contact_seconds{member}} (on the
 * leader only), {@code holdfast_snapshot_bytes}, {@code holdfast_snapshot_write_seconds}, and the JVM's.
 */
public final class ServerMetrics {
    /** What the function counters read, kept here; see {@link #keep}. */
    private final java.util.List<Object> readFromStrongly = new java.util.ArrayList<>();

    private static final String GRANTS = "holdfast.grants";
    private static final String GRANTS_HELP = "Grants applied";
    private static final String RELEASES = "holdfast.releases";
    private static final String RELEASES_HELP = "Releases applied";
    private static final String DEADLOCKS = "holdfast.deadlocks.refused";
    private static final String DEADLOCKS_HELP = "Acquires refused because they would close a wait-for cycle";
    private static final String WAITS_TIMED_OUT = "holdfast.waits.timed.out";
    private static final String WAITS_TIMED_OUT_HELP = "Queued requests whose wait ran out";
    private static final String LOCKS_LOST = "holdfast.locks.lost";
    private static final String LOCKS_LOST_HELP = "Grants taken from their holders";
    private static final String SESSIONS_EXPIRED = "holdfast.sessions.expired";
    private static final String SESSIONS_EXPIRED_HELP = "Sessions whose heartbeats stopped";

    private static final Duration[] SLOS = {
        Duration.ofMillis(1),
        Duration.ofMillis(2),
        Duration.ofMillis(5),
        Duration.ofMillis(10),
        Duration.ofMillis(25),
        Duration.ofMillis(50),
        Duration.ofMillis(100),
        Duration.ofMillis(250),
        Duration.ofMillis(500),
        Duration.ofSeconds(1),
        Duration.ofSeconds(5),
    };

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Timer> requestTimers = new ConcurrentHashMap<>();
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Timer raftCommit;
    private final Counter leaderChanges;
    private final Counter logTailRepairs;
    private final DistributionSummary snapshotBytes;
    private final Timer snapshotTime;
    private final MultiGauge memberContact;
    private volatile Supplier<Map<String, Long>> memberContactMillis = Map::of;
    /** The rows last registered: the gauges hold their values weakly (see {@link #keep}). */
    private List<MultiGauge.Row<?>> memberContactRows = List.of();

    private volatile LockTable.Stats stats;
    private volatile long statsAt = Long.MIN_VALUE;

    public ServerMetrics(String nodeId) {
        registry.config().commonTags("node", nodeId);
        raftCommit = Timer.builder("holdfast.raft.commit")
                .description("From handing a batch of commands to Raft to its reply: replicated, durable, applied")
                .serviceLevelObjectives(SLOS)
                .register(registry);
        leaderChanges = Counter.builder("holdfast.raft.leader.changes")
                .description("Times this node saw a new leader")
                .register(registry);
        logTailRepairs = Counter.builder("holdfast.log.tail.repairs")
                .description("Torn writes cut off the end of the Raft log when this node started (see RaftLogCheck)")
                .register(registry);
        snapshotBytes = DistributionSummary.builder("holdfast.snapshot")
                .baseUnit("bytes")
                .description("Size of each snapshot this node wrote")
                .register(registry);
        snapshotTime = Timer.builder("holdfast.snapshot.write")
                .description("Time to write each snapshot, under the apply lock (nothing is applied meanwhile)")
                .register(registry);
        memberContact = MultiGauge.builder("holdfast.raft.member.last.contact")
                .baseUnit("seconds")
                .description(
                        "As leader, the time since each other member last answered this node (none on a" + " follower)")
                .register(registry);
        countedFromZero();
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /**
     * Lists the counters of what this replica applies at 0 before anything happened: a counter
     * that first appears at 12 is read by Prometheus's {@code increase} as no increase at all.
     */
    private void countedFromZero() {
        count(0, GRANTS, GRANTS_HELP, "waited", "false");
        count(0, GRANTS, GRANTS_HELP, "waited", "true");
        count(0, RELEASES, RELEASES_HELP);
        count(0, DEADLOCKS, DEADLOCKS_HELP);
        count(0, WAITS_TIMED_OUT, WAITS_TIMED_OUT_HELP);
        count(0, SESSIONS_EXPIRED, SESSIONS_EXPIRED_HELP);
        for (Event.Reason reason : Event.Reason.values()) {
            count(0, LOCKS_LOST, LOCKS_LOST_HELP, "reason", reason.name().toLowerCase(Locale.ROOT));
        }
    }

    /** Gauges over the table and the node; the suppliers are called when scraped, the table's once a second of {@code ticker}. */
    void bind(
            io.holdfast.Ticker ticker,
            Supplier<LockTable.Stats> tableStats,
            Supplier<Map<String, Long>> refusals,
            Supplier<Boolean> isLeader,
            Supplier<Long> term,
            Supplier<Long> appliedIndex) {
        Supplier<LockTable.Stats> cached = () -> {
            long now = ticker.nanos();
            LockTable.Stats s = stats;
            if (s == null || now - statsAt > TimeUnit.SECONDS.toNanos(1)) {
                s = tableStats.get();
                stats = s;
                statsAt = now;
            }
            return s;
        };
        gauge("holdfast.sessions", "Open sessions", () -> cached.get().sessions());
        gauge(
                "holdfast.locks",
                "Locks and semaphores held, waited for or lock-delayed",
                () -> cached.get().resources());
        gauge(
                "holdfast.holds",
                "Grants held, over all locks and semaphores",
                () -> cached.get().holds());
        gauge(
                "holdfast.waiters",
                "Requests queued, over all locks and semaphores",
                () -> cached.get().waiters());
        gauge(
                "holdfast.queue.longest",
                "The most requests queued on one lock or semaphore",
                () -> cached.get().longestQueue());
        gauge("holdfast.registers", "Versioned registers", () -> cached.get().registers());
        gauge(
                "holdfast.register.bytes",
                "Bytes of register values",
                () -> cached.get().registerBytes());
        gauge(
                "holdfast.fencing.token",
                "The last fencing token granted, approximately (a gauge is a double);"
                        + " the exact token is lastToken in /api/v1/status",
                () -> cached.get().lastToken());
        gauge("holdfast.raft.is.leader", "1 while this node leads", () -> isLeader.get() ? 1 : 0);
        gauge("holdfast.raft.term", "The Raft term this node is in", term::get);
        gauge("holdfast.raft.applied.index", "The last log index this node applied", appliedIndex::get);
        keep(refusals);
        for (String reason : refusals.get().keySet()) {
            FunctionCounter.builder(
                            "holdfast.refusals",
                            refusals,
                            r -> r.get().getOrDefault(reason, 0L).doubleValue())
                    .description("Requests refused by a quota, or for want of permission")
                    .tag("reason", reason)
                    .register(registry);
        }
    }

    /**
     * The failed authentications on this node's ports, by reason ({@link AuthFailures.Reason}),
     * every reason from zero.
     */
    public void authFailures(AuthFailures failures) {
        keep(failures);
        for (AuthFailures.Reason reason : AuthFailures.Reason.values()) {
            FunctionCounter.builder("holdfast.auth.failures", failures, f -> (double) f.count(reason))
                    .description("Calls refused because their credentials were bad, expired, revoked, unknown or"
                            + " missing, or their client certificate was refused")
                    .tag("reason", reason.label())
                    .register(registry);
        }
    }

    /**
     * The leader's lease check's refusals, by what was refused ({@code request}: {@code read},
     * {@code heartbeat}), every kind from zero.
     */
    public void leaseCheckRefusals(LeaseRefusals refusals) {
        keep(refusals);
        for (LeaseRefusals.Refused what : LeaseRefusals.Refused.values()) {
            FunctionCounter.builder("holdfast.lease.check.refusals", refusals, r -> (double) r.count(what))
                    .description("Requests this node refused as leader because a majority of the voters had not"
                            + " answered it within its lease")
                    .tag("request", what.label())
                    .register(registry);
        }
    }

    /**
     * The scheduled backups of this node: {@code holdfast_backups_total{outcome}}, written or
     * failed (a failure is also logged; it never stops the node).
     */
    public void backups(java.util.function.LongSupplier written, java.util.function.LongSupplier failed) {
        keep(written);
        keep(failed);
        FunctionCounter.builder("holdfast.backups", written, s -> (double) s.getAsLong())
                .description("Scheduled backups this node wrote or failed to write as leader")
                .tag("outcome", "written")
                .register(registry);
        FunctionCounter.builder("holdfast.backups", failed, s -> (double) s.getAsLong())
                .description("Scheduled backups this node wrote or failed to write as leader")
                .tag("outcome", "failed")
                .register(registry);
    }

    /** The client port's count of requests whose body was not the method's message. */
    public void unparsableRequests(java.util.function.LongSupplier count) {
        keep(count);
        FunctionCounter.builder("holdfast.unparsable.requests", count, c -> (double) c.getAsLong())
                .description("Client requests refused because their body was not the method's message")
                .register(registry);
    }

    /**
     * Keeps what a function counter reads: Micrometer holds it weakly, so a method reference that
     * nothing else keeps would be collected and its counter would read 0 from then on.
     */
    private synchronized void keep(Object readFrom) {
        readFromStrongly.add(readFrom);
    }

    private void gauge(String name, String description, Supplier<Number> value) {
        Gauge.builder(name, value).description(description).register(registry);
    }

    /** A request this node served as leader, timed from arrival to reply. */
    void request(Command command, Object replyOrError, long nanos) {
        String key = commandName(command) + '|' + outcome(replyOrError);
        requestTimers
                .computeIfAbsent(key, k -> {
                    int bar = k.indexOf('|');
                    return Timer.builder("holdfast.requests")
                            .description("Write requests served by this node as leader, by command and outcome")
                            .tag("command", k.substring(0, bar))
                            .tag("outcome", k.substring(bar + 1))
                            .serviceLevelObjectives(SLOS)
                            .register(registry);
                })
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** What one applied log entry did on this replica. */
    void applied(List<Command.Envelope> commands, List<Reply> replies, List<List<Event>> events) {
        for (int i = 0; i < commands.size() && i < replies.size(); i++) {
            Command.Envelope c = commands.get(i);
            if (c != null) {
                replies.get(i).accept(new AppliedReply(c.command()));
            }
        }
        for (List<Event> caused : events) {
            for (Event e : caused) {
                e.accept(appliedEvent);
            }
        }
    }

    /** What an applied command's reply counts: grants made at once, releases, deadlocks refused. */
    private final class AppliedReply implements Reply.Visitor<Void> {
        private final Command command;

        AppliedReply(Command command) {
            this.command = command;
        }

        @Override
        public Void granted(Reply.Granted r) {
            count(1, GRANTS, GRANTS_HELP, "waited", "false");
            return null;
        }

        /** One grant per name, as a queued multi-lock's grant is counted (one event per name). */
        @Override
        public Void grantedAll(Reply.GrantedAll r) {
            count(r.tokens().size(), GRANTS, GRANTS_HELP, "waited", "false");
            return null;
        }

        @Override
        public Void ok(Reply.Ok r) {
            if (command instanceof Command.Release) {
                count(1, RELEASES, RELEASES_HELP);
            }
            return null;
        }

        @Override
        public Void failed(Reply.Failed r) {
            if (r.code() == ErrorCode.DEADLOCK) {
                count(1, DEADLOCKS, DEADLOCKS_HELP);
            }
            return null;
        }

        @Override
        public Void queued(Reply.Queued r) {
            return null; // counted when its event comes
        }

        @Override
        public Void busy(Reply.Busy r) {
            return null;
        }

        @Override
        public Void written(Reply.Written r) {
            return null;
        }

        @Override
        public Void counted(Reply.Counted r) {
            return null;
        }

        @Override
        public Void transacted(Reply.Transacted r) {
            return null;
        }
    }

    /** What an applied event counts. */
    private final Event.Visitor<Void> appliedEvent = Event.Visitor.of(
            granted -> count(1, GRANTS, GRANTS_HELP, "waited", "true"),
            timedOut -> count(1, WAITS_TIMED_OUT, WAITS_TIMED_OUT_HELP),
            lost -> count(
                    1,
                    LOCKS_LOST,
                    LOCKS_LOST_HELP,
                    "reason",
                    lost.reason().name().toLowerCase(Locale.ROOT)),
            expired -> count(1, SESSIONS_EXPIRED, SESSIONS_EXPIRED_HELP));

    void raftCommit(long nanos) {
        raftCommit.record(nanos, TimeUnit.NANOSECONDS);
    }

    void leaderChanged() {
        leaderChanges.increment();
    }

    public void logTailRepaired() {
        logTailRepairs.increment();
    }

    void snapshot(long bytes, long nanos) {
        snapshotBytes.record(bytes);
        snapshotTime.record(nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * The leader's view of the other members, read when scraped: milliseconds since each last
     * answered this node, by member id, empty when this node does not lead.
     */
    void memberContact(Supplier<Map<String, Long>> millisByMember) {
        memberContactMillis = millisByMember;
    }

    /** The metrics in Prometheus's text exposition format. */
    public String scrape() {
        List<MultiGauge.Row<?>> rows = new java.util.ArrayList<>();
        memberContactMillis
                .get()
                .forEach((member, millis) -> rows.add(MultiGauge.Row.of(Tags.of("member", member), millis / 1000.0)));
        synchronized (this) {
            memberContactRows = rows;
            memberContact.register(rows, true);
            return registry.scrape();
        }
    }

    private void count(double amount, String name, String description, String... tags) {
        String key = tags.length == 0 ? name : name + '|' + String.join("|", tags);
        counters.computeIfAbsent(
                        key,
                        k -> Counter.builder(name)
                                .description(description)
                                .tags(tags)
                                .register(registry))
                .increment(amount);
    }

    static String commandName(Command c) {
        String simple = c.getClass().getSimpleName();
        StringBuilder out = new StringBuilder(simple.length() + 4);
        for (int i = 0; i < simple.length(); i++) {
            char ch = simple.charAt(i);
            if (Character.isUpperCase(ch) && i > 0) {
                out.append('_');
            }
            out.append(Character.toLowerCase(ch));
        }
        return out.toString();
    }

    static String outcome(Object replyOrError) {
        Object o =
                replyOrError instanceof CompletionException ce && ce.getCause() != null ? ce.getCause() : replyOrError;
        if (o instanceof Reply r) {
            return r.accept(ReplyOutcomes.OUTCOME);
        }
        if (o instanceof NotLeaderException) {
            return "not_leader";
        }
        return "unavailable";
    }
}
