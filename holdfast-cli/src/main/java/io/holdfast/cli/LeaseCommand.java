package io.holdfast.cli;

import io.holdfast.ClientOptions;
import io.holdfast.ErrorCode;
import io.holdfast.SessionExpiredException;
import io.holdfast.model.KeyPage;
import io.holdfast.model.Reply;
import io.holdfast.model.SessionIds;
import io.holdfast.model.SessionPage;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast lease grant|keep-alive|revoke|show}: etcd's leases in Holdfast's terms (ADR
 * 0006). A lease is a session that holds nothing: {@code grant} opens one and prints its id, {@code
 * kv put KEY VALUE --lease ID} attaches keys to it (from any process of the same identity), {@code
 * keep-alive} sends its heartbeats until stopped, {@code revoke} ends it (every key on it is deleted
 * in that step), {@code show} prints its TTL, what is left of it and the keys on it.
 *
 * <p>Exit codes: 0; 64 usage error, a lease that is not open (revoke, show) or a backend that is no
 * Holdfast server; 69 backend unavailable, or the lease ended while {@code keep-alive} kept it; 77
 * not allowed. Failure story: {@code lease keep-alive} is SIGSTOPped longer than the lease's TTL; the
 * leader expires it and deletes its keys; when the process runs again its next heartbeat is refused,
 * it prints "lease ID is gone: …" and exits 69.
 */
@Command(
        name = "lease",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        subcommands = {
            LeaseCommand.Grant.class,
            LeaseCommand.KeepAlive.class,
            LeaseCommand.Revoke.class,
            LeaseCommand.Show.class
        },
        description = {
            "Leases shared by several keys, as etcd's (docs/keys.md): a session that holds nothing.",
            "Exit code: 0; 64 usage error, a lease that is not open, or a backend that is no Holdfast server;"
                    + " 69 backend unavailable, or the lease ended while keep-alive kept it; 77 not allowed."
        })
final class LeaseCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** No subcommand: show what there is, as a usage error. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
    }

    /** {@code holdfast lease grant TTL}: opens a session that holds nothing and prints its id. */
    @Command(
            name = "grant",
            mixinStandardHelpOptions = true,
            usageHelpAutoWidth = true,
            description = {
                "Open a lease of TTL (1s to 10m) and print its id. It lives while 'lease keep-alive ID' runs, and a"
                        + " TTL after the last heartbeat; the keys put with --lease ID go with it.",
                "Exit code: 0; 64 usage error; 69 backend unavailable; 77 not allowed."
            })
    static final class Grant implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "TTL", converter = DurationConverter.class, description = "e.g. 30s")
        Duration ttl;

        @Mixin
        ServerCalls cluster;

        @Override
        public Integer call() throws InterruptedException {
            if (ttl.compareTo(ClientOptions.MIN_SESSION_TTL) < 0 || ttl.compareTo(ClientOptions.MAX_SESSION_TTL) > 0) {
                throw new CliFailure(
                        ExitCodes.USAGE,
                        "a lease's TTL is " + Durations.format(ClientOptions.MIN_SESSION_TTL) + " to "
                                + Durations.format(ClientOptions.MAX_SESSION_TTL) + ", not " + Durations.format(ttl));
            }
            String id = SessionIds.newId();
            cluster.submit(
                    "leases", new io.holdfast.model.Command.OpenSession(id, "lease@" + host(), ttl.toMillis(), 0));
            return Main.printed(spec, id);
        }

        private static String host() {
            try {
                return java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException | SecurityException e) {
                return "localhost";
            }
        }
    }

    /**
     * {@code holdfast lease keep-alive ID}: a heartbeat every third of the lease's TTL until SIGINT or
     * SIGTERM (the lease then lives one more TTL, as etcd's does; the shell sees the signal's status), or until one is refused
     * because the lease ended (exit 69, one line).
     */
    @Command(
            name = "keep-alive",
            mixinStandardHelpOptions = true,
            usageHelpAutoWidth = true,
            description = {
                "Keep lease ID alive until stopped (Ctrl-C: it then ends a TTL later, with its keys).",
                "Exit code: 130/143 stopped by SIGINT/SIGTERM; 64 usage error or no open lease ID; 69 backend unavailable, or the lease"
                        + " ended while kept; 77 not allowed."
            })
    static final class KeepAlive extends OnLease {

        @Override
        public Integer call() throws InterruptedException {
            SessionPage.Session lease = find(cluster, id)
                    .orElseThrow(() -> new CliFailure(ExitCodes.USAGE, "no open lease has the id " + id));
            Duration beat = Duration.ofMillis(Math.max(100, lease.ttlMillis() / 3));
            CountDownLatch stopped = new CountDownLatch(1);
            Thread hook = new Thread(stopped::countDown, "holdfast-lease-keep-alive-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            PrintWriter out = spec.commandLine().getOut();
            out.println("keeping lease " + id + " (TTL " + Durations.format(Duration.ofMillis(lease.ttlMillis()))
                    + ") alive; Ctrl-C stops");
            out.flush();
            try {
                do {
                    Reply r = cluster.call("leases", t -> t.keepAlive(id, beat));
                    if (r instanceof Reply.Failed f) {
                        if (f.code() == ErrorCode.SESSION_EXPIRED) {
                            throw new CliFailure(
                                    ExitCodes.BACKEND_UNAVAILABLE, "lease " + id + " is gone: " + f.message());
                        }
                        throw f.code().toException(f.message());
                    }
                } while (!stopped.await(beat.toMillis(), TimeUnit.MILLISECONDS));
                return ExitCodes.OK;
            } finally {
                HeldChild.removeOnSignal(hook);
            }
        }
    }

    /**
     * {@code holdfast lease revoke ID}: ends the lease now, as {@code holdfast sessions end} ends a
     * session: every key on it is deleted in that step (watchers are told {@code sessionExpired}).
     */
    @Command(
            name = "revoke",
            mixinStandardHelpOptions = true,
            usageHelpAutoWidth = true,
            description = {
                "End lease ID now: every key on it is deleted in the same step.",
                "Exit code: 0; 64 usage error or no open lease ID; 69 backend unavailable; 77 not allowed."
            })
    static final class Revoke extends OnLease {

        @Override
        public Integer call() throws InterruptedException {
            checkId(id);
            try {
                cluster.submit("leases", new io.holdfast.model.Command.EndSession(id));
            } catch (SessionExpiredException e) {
                throw new CliFailure(ExitCodes.USAGE, "no open lease has the id " + id, e);
            }
            return Main.printed(spec, "Revoked lease " + id + ": its keys are deleted.");
        }
    }

    /** {@code holdfast lease show ID}: its TTL, what is left of it, and the keys on it. */
    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            usageHelpAutoWidth = true,
            description = {
                "Print lease ID's TTL, the time left of it, and the keys attached to it (every key is read).",
                "Exit code: 0; 64 usage error or no open lease ID; 69 backend unavailable; 77 not allowed."
            })
    static final class Show extends OnLease {

        @Override
        public Integer call() throws InterruptedException {
            SessionPage.Session lease = find(cluster, id)
                    .orElseThrow(() -> new CliFailure(ExitCodes.USAGE, "no open lease has the id " + id));
            List<String> keys = cluster.call("keys", t -> {
                java.util.concurrent.CompletableFuture<List<String>> done =
                        new java.util.concurrent.CompletableFuture<>();
                attached(t, null, new ArrayList<>(), done);
                return done;
            });
            PrintWriter out = spec.commandLine().getOut();
            out.println("lease " + id + " TTL " + Durations.format(Duration.ofMillis(lease.ttlMillis())) + ", left "
                    + (lease.ttlLeftMillis() == null ? "-" : Durations.format(Duration.ofMillis(lease.ttlLeftMillis())))
                    + ", " + keys.size() + (keys.size() == 1 ? " key" : " keys") + " attached"
                    + (lease.holds() > 0 ? ", " + lease.holds() + " locks held" : ""));
            keys.forEach(out::println);
            out.flush();
            return ExitCodes.OK;
        }

        /** Reads every page of keys, keeping those attached to the lease. */
        private void attached(
                io.holdfast.client.internal.ClusterTransport t,
                String after,
                List<String> into,
                java.util.concurrent.CompletableFuture<List<String>> done) {
            t.keys(null, "", after, io.holdfast.Keys.MAX_PAGE, true).whenComplete((page, error) -> {
                if (error != null) {
                    done.completeExceptionally(error);
                    return;
                }
                for (KeyPage.Entry e : page.keys()) {
                    if (id.equals(e.owner())) {
                        into.add(e.key());
                    }
                }
                if (!page.more() || page.keys().isEmpty()) {
                    done.complete(into);
                } else {
                    attached(t, page.keys().get(page.keys().size() - 1).key(), into, done);
                }
            });
        }
    }

    /** What the commands on one lease share: the lease's id and the backend. */
    abstract static class OnLease implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "ID", description = "The lease, as 'lease grant' printed it.")
        String id;

        @Mixin
        ServerCalls cluster;
    }

    /** A usage error unless {@code id} could be a lease's (the table's rule for every id it holds). */
    static void checkId(String id) {
        if (SessionIds.problem(id) != null) {
            throw new CliFailure(ExitCodes.USAGE, "not a lease id: " + id + " (" + notALeaseId(id) + ")");
        }
    }

    /**
     * Why {@code id} cannot be a lease's, in the terms of what {@code lease grant} prints ({@value
     * SessionIds#NEW_LENGTH} characters of {@code A-Z a-z 0-9 - _}) rather than the table's rule for
     * every id it may hold (16 to 128 characters, older clusters' ids included), which said "16 to
     * 128" to a user who had only ever seen 22.
     */
    static String notALeaseId(String id) {
        String alphabet = "A-Z a-z 0-9 - _";
        for (int i = 0; i < id.length(); i++) {
            char ch = id.charAt(i);
            if (!(ch >= 'a' && ch <= 'z'
                    || ch >= 'A' && ch <= 'Z'
                    || ch >= '0' && ch <= '9'
                    || ch == '-'
                    || ch == '_')) {
                return "'" + ch + "' at character " + (i + 1) + " is not one of " + alphabet;
            }
        }
        return "`holdfast lease grant` prints " + SessionIds.NEW_LENGTH + " characters of " + alphabet + "; this has "
                + id.length();
    }

    /**
     * The open session {@code id}, as the leader sees it, or empty: the page of sessions from just
     * before it, in id order (its id without the last character sorts before it), read on until an
     * id past it.
     */
    static Optional<SessionPage.Session> find(ServerCalls cluster, String id) throws InterruptedException {
        checkId(id);
        String after = id.substring(0, id.length() - 1);
        while (true) {
            String from = after;
            SessionPage page = cluster.call("leases", t -> t.sessions(null, from, 100));
            for (SessionPage.Session s : page.sessions()) {
                if (s.id().equals(id)) {
                    return Optional.of(s);
                }
                if (s.id().compareTo(id) > 0) {
                    return Optional.empty();
                }
            }
            if (page.next() == null || page.sessions().isEmpty()) {
                return Optional.empty();
            }
            after = page.next();
        }
    }
}
