package io.holdfast.cli;

import io.holdfast.UnavailableException;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.model.ClusterInfo;
import io.holdfast.model.MembershipChange;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.http.JsonViews;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast members}: the members of a Holdfast cluster with their roles, as the leader sees
 * them, with the time since the leader last heard from each; and its subcommands, which change them
 * ({@code add}, {@code remove}, {@code promote}, {@code transfer-leader}) through the leader, each
 * printing the members afterwards as the leader has them (after a transfer or the leader's removal:
 * the new leader). Each waits through an election for up to {@code --timeout} ({@link
 * ServerCalls}); without a leader by then, {@code members} prints one member's own view and exits
 * {@value ExitCodes#BACKEND_UNAVAILABLE}. The procedures (replace a member, grow, shrink) are in
 * {@code docs/operations.md}.
 */
@Command(
        name = "members",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        subcommands = {
            MembersCommand.Add.class,
            MembersCommand.Remove.class,
            MembersCommand.Promote.class,
            MembersCommand.TransferLeader.class
        },
        description = {
            "Print the members of a Holdfast cluster (docs/operations.md): role, addresses, and how long ago the"
                    + " leader last heard from each. The subcommands change them (admin only when access control"
                    + " is on).",
            "Exit code: 0; 69 backend unavailable (no leader within --timeout); 64 usage error or a backend that is no Holdfast server;"
                    + " 75 the change was refused (another under way, or a new member that does not answer);"
                    + " 77 not allowed."
        })
final class MembersCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print a JSON object (the HTTP API's /api/v1/status shape).")
    boolean json;

    @Mixin
    ServerCalls cluster;

    /**
     * The members as the leader sees them, waiting through an election for up to {@code --timeout}.
     * When no leader answers in that time, one member's own view is still worth showing: it is
     * printed, and the command fails with the reason ({@value ExitCodes#BACKEND_UNAVAILABLE}).
     */
    @Override
    public Integer call() throws InterruptedException {
        ClusterInfo members;
        try {
            members = cluster.call("members", t -> leaderView(t, null));
        } catch (CliFailure noLeader) {
            if (noLeader.exitCode() != ExitCodes.BACKEND_UNAVAILABLE) {
                throw noLeader;
            }
            try {
                print(
                        ServerCalls.call(cluster.uri(), "members", Duration.ofSeconds(3), ClusterTransport::cluster),
                        json,
                        spec.commandLine().getOut());
            } catch (CliFailure | io.holdfast.HoldfastException none) {
                // nothing to show: the line says why
            }
            throw noLeader;
        }
        print(members, json, spec.commandLine().getOut());
        return ExitCodes.OK;
    }

    /**
     * The members as a leader has them: a list, which only the leader serves, takes the connection
     * there; the members are then asked of that member. An answer from a member that does not lead
     * (the leadership moved in between), or from {@code notFrom} (the leader that just handed its
     * leadership over), fails with {@link UnavailableException}, which {@link ServerCalls} retries.
     */
    static CompletableFuture<ClusterInfo> leaderView(ClusterTransport t, String notFrom) {
        return t.list("", 1).thenCompose(ignored -> t.cluster()).thenApply(c -> {
            if (!"leader".equals(c.role()) || c.answeredBy().equals(notFrom)) {
                throw new UnavailableException(c.answeredBy() + " answered as " + c.role() + " (leader: "
                        + (c.leader() == null ? "none known" : c.leader()) + ")");
            }
            return c;
        });
    }

    /** The members as a table, or with {@code json} the HTTP API's shape. */
    static void print(ClusterInfo cluster, boolean json, PrintWriter out) {
        if (json) {
            out.println(JsonViews.cluster(cluster).toPrettyString());
            out.flush();
            return;
        }
        out.printf(
                "answered by %s (%s), term %d, commit index %d, applied index %d, protocol version %d,"
                        + " last fencing token %d; leader: %s%n",
                cluster.answeredBy(),
                cluster.role(),
                cluster.term(),
                cluster.commitIndex(),
                cluster.appliedIndex(),
                cluster.clusterVersion(),
                cluster.lastToken(),
                cluster.leader() == null ? "none known" : cluster.leader());
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "ROLE", "RAFT ADDRESS", "CLIENT ADDRESS", "VERSION", "LAST CONTACT"});
        for (ClusterInfo.Member m : cluster.members()) {
            rows.add(new String[] {
                m.id() + (m.id().equals(cluster.answeredBy()) ? " *" : ""),
                m.role(),
                m.raftAddress(),
                m.clientAddress(),
                m.version() == null ? "not reported" : String.valueOf(m.version()),
                m.id().equals(cluster.answeredBy())
                        ? "-"
                        : m.lastContactMillis() == null
                                ? "unknown"
                                : LocksCommand.duration(Duration.ofMillis(m.lastContactMillis())) + " ago"
            });
        }
        LocksCommand.table(rows, out);
        out.flush();
    }

    /**
     * A subcommand that changes the members: it makes its {@link #change()} through the leader,
     * waiting through an election for up to {@code --timeout}, and prints the members as the leader
     * has them after it. After a transfer, or the removal of the member that answered, that is the new
     * leader: it is asked, within the same timeout. A removal reads the members first: when its
     * answer was lost and the call, made again, meets a leader without the member, the members read
     * again say whether it is gone (done) or never was one (the leader's "no member has the id").
     */
    abstract static class Change implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ServerCalls cluster;

        /** The change the command line asks for. */
        abstract MembershipChange change();

        @Override
        public Integer call() throws InterruptedException {
            return MembersCommand.change(spec, cluster, change());
        }
    }

    private static int change(CommandSpec spec, ServerCalls cluster, MembershipChange change)
            throws InterruptedException {
        Duration within = cluster.timeout();
        long deadline = System.nanoTime() + within.toNanos();
        boolean wasMember = change instanceof MembershipChange.Remove r
                && ServerCalls.call(cluster.uri(), "members", within, t -> leaderView(t, null)).members().stream()
                        .anyMatch(m -> m.id().equals(r.id()));
        ClusterInfo answer;
        try {
            answer = ServerCalls.call(cluster.uri(), "members", within, t -> t.changeMembers(null, change));
        } catch (io.holdfast.InvalidArgumentException e) {
            if (!wasMember || !e.getMessage().startsWith("no member has the id ")) {
                throw e;
            }
            // A leader that removes itself may stop before its answer leaves; the call is then made
            // again at the next leader, which no longer has the member. The members say which.
            Duration left = Duration.ofNanos(Math.max(deadline - System.nanoTime(), 1_000_000_000L));
            ClusterInfo now = ServerCalls.call(cluster.uri(), "members", left, t -> leaderView(t, null));
            String id = ((MembershipChange.Remove) change).id();
            if (now.members().stream().anyMatch(m -> m.id().equals(id))) {
                throw e;
            }
            PrintWriter out = spec.commandLine().getOut();
            out.println("Done: " + change.describe() + " (its answer was lost, and the members no longer list it).");
            print(now, false, out);
            return ExitCodes.OK;
        }
        ClusterInfo after = answer;
        boolean leftOrHandedOver = (change instanceof MembershipChange.TransferLeader t
                        && !answer.answeredBy().equals(t.id()))
                || !"leader".equals(answer.role())
                || answer.members().stream().noneMatch(m -> m.id().equals(answer.answeredBy()));
        if (leftOrHandedOver) {
            String old = answer.answeredBy();
            Duration left = Duration.ofNanos(Math.max(deadline - System.nanoTime(), 1_000_000_000L));
            try {
                after = ServerCalls.call(cluster.uri(), "members", left, t -> leaderView(t, old));
            } catch (CliFailure noNewLeaderYet) {
                // The change is made: say so, with the members as the member that made it has them.
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println("Done: " + change.describe() + ".");
        print(after, false, out);
        return ExitCodes.OK;
    }

    @Command(
            name = "add",
            mixinStandardHelpOptions = true,
            usageHelpAutoWidth = true,
            description = {
                "Add a member to the cluster. Start the new node first (holdfast server --id ID --peers with the"
                        + " members and itself, an empty --data-dir): the leader brings it up to date before the"
                        + " change counts its vote, and gives up if it does not answer.",
                "With --learner it joins without a vote; 'members promote ID' gives it one once it has caught up"
                        + " (the careful way to replace a member).",
                "Exit code: 0; 69 backend unavailable (no leader within --timeout); 64 usage error; 75 refused; 77 not allowed."
            })
    static final class Add extends Change {
        @Parameters(
                index = "0",
                paramLabel = "ID=HOST:RAFTPORT[:CLIENTPORT]",
                description = "The new member, written as in --peers (client port: Raft port - 1 if left out).")
        String member;

        @Option(names = "--learner", description = "Join without a vote, to be promoted later.")
        boolean learner;

        @Override
        MembershipChange change() {
            Map<String, ServerConfig.Peer> parsed;
            try {
                parsed = ServerConfig.parsePeers(member);
            } catch (IllegalArgumentException e) {
                throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
            }
            if (parsed.size() != 1) {
                throw new CliFailure(ExitCodes.USAGE, "add one member at a time, not " + parsed.keySet());
            }
            Map.Entry<String, ServerConfig.Peer> e =
                    parsed.entrySet().iterator().next();
            return new MembershipChange.Add(
                    e.getKey(), e.getValue().raftAddress(), e.getValue().clientAddress(), learner);
        }
    }

    @Command(
            name = "remove",
            mixinStandardHelpOptions = true,
            usageHelpAutoWidth = true,
            description = {
                "Remove a member (voter or learner) from the cluster; then stop that node. Removing the leader"
                        + " makes another member lead.",
                "Exit code: 0; 69 backend unavailable (no leader within --timeout); 64 usage error (no such member, the last voter); 75 refused;"
                        + " 77 not allowed."
            })
    static final class Remove extends Change {
        @Parameters(index = "0", paramLabel = "ID", description = "The member's id.")
        String id;

        @Override
        MembershipChange change() {
            return new MembershipChange.Remove(id);
        }
    }

    @Command(
            name = "promote",
            mixinStandardHelpOptions = true,
            usageHelpAutoWidth = true,
            description = {
                "Give a learner a vote.",
                "Exit code: 0; 69 backend unavailable (no leader within --timeout); 64 usage error; 75 refused; 77 not allowed."
            })
    static final class Promote extends Change {
        @Parameters(index = "0", paramLabel = "ID", description = "The learner's id.")
        String id;

        @Override
        MembershipChange change() {
            return new MembershipChange.Promote(id);
        }
    }

    @Command(
            name = "transfer-leader",
            mixinStandardHelpOptions = true,
            usageHelpAutoWidth = true,
            description = {
                "Hand the leadership to member ID, or to the most up-to-date voter: before stopping the leader"
                        + " for maintenance (holdfast server does it by itself when it stops).",
                "Exit code: 0; 69 backend unavailable (no leader within --timeout); 64 usage error; 75 refused; 77 not allowed."
            })
    static final class TransferLeader extends Change {
        @Parameters(index = "0", arity = "0..1", paramLabel = "ID", description = "The voter to lead next.")
        String id;

        @Override
        MembershipChange change() {
            return new MembershipChange.TransferLeader(id);
        }
    }
}
