package io.holdfast.cli;

import io.holdfast.core.ClusterInfo;
import io.holdfast.server.JsonViews;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast members}: the members of a Holdfast cluster with their roles, as the leader sees
 * them (when a leader can be found; else as the first member that answers), with the time since the
 * leader last heard from each.
 */
@Command(
        name = "members",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Print the members of a Holdfast cluster: role, addresses, and how long ago the leader last heard"
                    + " from each.",
            "Exit code: 0; 69 backend unavailable; 64 usage error or a backend that is no Holdfast server."
        })
final class MembersCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print a JSON object (the HTTP API's /api/v1/status shape).")
    boolean json;

    @Mixin
    BackendOption backend;

    @Override
    public Integer call() throws InterruptedException {
        ClusterInfo cluster = ServerCalls.call(
                backend.uri(),
                "members",
                t -> t.list("", 1)
                        // A list is served by the leader only: it takes the connection there if there is one.
                        // Without a leader, any member's own view is still worth showing.
                        .handle((ignored, error) -> null)
                        .thenCompose(ignored -> t.cluster()));
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(JsonViews.cluster(cluster).toPrettyString());
            out.flush();
            return ExitCodes.OK;
        }
        out.printf(
                "answered by %s (%s), term %d, commit index %d, applied index %d; leader: %s%n",
                cluster.answeredBy(),
                cluster.role(),
                cluster.term(),
                cluster.commitIndex(),
                cluster.appliedIndex(),
                cluster.leader() == null ? "none known" : cluster.leader());
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "ROLE", "RAFT ADDRESS", "CLIENT ADDRESS", "LAST CONTACT"});
        for (ClusterInfo.Member m : cluster.members()) {
            rows.add(new String[] {
                m.id() + (m.id().equals(cluster.answeredBy()) ? " *" : ""),
                m.role(),
                m.raftAddress(),
                m.clientAddress(),
                m.id().equals(cluster.answeredBy())
                        ? "-"
                        : m.lastContactMillis() == null
                                ? "unknown"
                                : LocksCommand.duration(Duration.ofMillis(m.lastContactMillis())) + " ago"
            });
        }
        LocksCommand.table(rows, out);
        out.flush();
        return ExitCodes.OK;
    }
}
