package io.holdfast.cli;

import io.holdfast.SessionExpiredException;
import io.holdfast.model.Reply;
import io.holdfast.model.SessionPage;
import io.holdfast.server.http.JsonViews;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast sessions}: the open sessions of a Holdfast server, as the leader sees them: client,
 * host, identity, TTL and TTL left, what each holds and waits for. With access control, the caller's
 * own sessions (an admin's: all). {@code holdfast sessions end ID} ends one.
 */
@Command(
        name = "sessions",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        subcommands = SessionsCommand.End.class,
        description = {
            "Print the open sessions of a Holdfast server: client, host, identity, TTL, TTL left, holds and waits.",
            "Exit code: 0; 69 backend unavailable (no leader within --timeout); 64 usage error or a backend that is no Holdfast server;"
                    + " 77 not allowed."
        })
final class SessionsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--limit",
            paramLabel = "N",
            defaultValue = "1000",
            description = "Print at most N sessions (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--json", description = "Print a JSON array (the HTTP API's shape, docs/http-api.md).")
    boolean json;

    @Mixin
    ServerCalls cluster;

    @Override
    public Integer call() throws InterruptedException {
        if (limit < 1 || limit > 100_000) {
            throw new CliFailure(ExitCodes.USAGE, "--limit must be between 1 and 100000, not " + limit);
        }
        List<SessionPage.Session> sessions = new ArrayList<>();
        boolean more = cluster.call("sessions", t -> {
            sessions.clear(); // a retried attempt reads from the first page again
            java.util.concurrent.CompletableFuture<Boolean> done = new java.util.concurrent.CompletableFuture<>();
            fetch(t, null, sessions, done);
            return done;
        });
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            var array = JsonViews.JSON.createArrayNode();
            sessions.forEach(s -> array.add(JsonViews.session(s)));
            out.println(array.toPrettyString());
        } else if (sessions.isEmpty()) {
            out.println("no sessions are open");
        } else {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {
                "SESSION", "CLIENT", "HOST", "IDENTITY", "TTL", "TTL LEFT", "HOLDS", "WAITS", "OPEN FOR"
            });
            for (SessionPage.Session s : sessions) {
                String host = JsonViews.host(s.clientName());
                rows.add(new String[] {
                    s.id(),
                    s.clientName(),
                    host == null ? "-" : host,
                    s.identity() == null ? "-" : s.identity(),
                    LocksCommand.duration(Duration.ofMillis(s.ttlMillis())),
                    s.ttlLeftMillis() == null ? "-" : LocksCommand.duration(Duration.ofMillis(s.ttlLeftMillis())),
                    Integer.toString(s.holds()),
                    Integer.toString(s.waits()),
                    LocksCommand.duration(Duration.ofMillis(s.openForMillis()))
                });
            }
            LocksCommand.table(rows, out);
            if (more) {
                out.println("(the first " + limit + "; --limit shows more)");
            }
        }
        out.flush();
        return ExitCodes.OK;
    }

    /**
     * {@code holdfast sessions end ID}: ends a session now, as if its heartbeats had stopped (a stuck
     * or partitioned client whose locks must go before its TTL runs out). Its holders are told,
     * lock-delay applies, its waits are dropped; its client learns that its session expired. With
     * access control, an admin may end any session, an identity its own; it is audited.
     */
    @Command(
            name = "end",
            mixinStandardHelpOptions = true,
            usageHelpAutoWidth = true,
            description = {
                "End session ID now, as if its heartbeats had stopped: its grants are taken back (lock-delay"
                        + " applies), its waits dropped, its client told that its session expired.",
                "Exit code: 0; 64 usage error, no such session, or a backend that is no Holdfast server;"
                        + " 69 backend unavailable (no leader within --timeout); 77 not allowed."
            })
    static final class End implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(
                index = "0",
                paramLabel = "ID",
                description = "The session, as holdfast sessions prints it (an id that begins with '-' goes after --).")
        String id;

        @Mixin
        ServerCalls cluster;

        @Override
        public Integer call() throws InterruptedException {
            Reply reply;
            try {
                reply = cluster.submit("sessions", new io.holdfast.model.Command.EndSession(id));
            } catch (SessionExpiredException e) {
                throw new CliFailure(ExitCodes.USAGE, "no open session has the id " + id, e);
            }
            long taken = reply instanceof Reply.Ok ok ? ok.value() : 0;
            return Main.printed(
                    spec,
                    "Ended session " + id + ": " + taken + " grant" + (taken == 1 ? "" : "s")
                            + " taken back; its client is told that its session expired.");
        }
    }

    /** Reads pages until the limit or the last page; completes with whether more remain. */
    private void fetch(
            io.holdfast.client.internal.ClusterTransport t,
            String after,
            List<SessionPage.Session> into,
            java.util.concurrent.CompletableFuture<Boolean> done) {
        int want = Math.min(1000, limit - into.size());
        t.sessions(null, after, want).whenComplete((page, error) -> {
            if (error != null) {
                done.completeExceptionally(error);
                return;
            }
            into.addAll(page.sessions());
            if (page.next() == null) {
                done.complete(false);
            } else if (into.size() >= limit) {
                done.complete(true);
            } else {
                fetch(t, page.next(), into, done);
            }
        });
    }
}
