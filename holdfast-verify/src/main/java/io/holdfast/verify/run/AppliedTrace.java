package io.holdfast.verify.run;

import io.holdfast.verify.history.Applied;
import io.holdfast.verify.history.History;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the applied-entry trace out of the nodes' logs after a run (the server writes it with
 * {@code -Dholdfast.raft.traceApplied=true}, which {@link Nodes} sets) into {@link Applied} records
 * for the {@code applied} checker. A line that does not parse is not a trace line and is skipped;
 * the trace's format is the server's {@code LockStateMachine} log messages.
 */
final class AppliedTrace {
    private static final Pattern APPLIED =
            Pattern.compile("\\bapplied (\\d+) term (\\d+) entry ([0-9a-f]+) table ([0-9a-f]+)");
    private static final Pattern LOADED = Pattern.compile("\\bloaded (\\d+) term (\\d+) snapshot table ([0-9a-f]+)");

    private AppliedTrace() {}

    /** The trace lines of one node's log, in order. */
    static List<Applied> read(String node, Path log) throws IOException {
        List<Applied> out = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(log, StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                Matcher m = APPLIED.matcher(line);
                if (m.find()) {
                    out.add(new Applied(
                            0, node, Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), m.group(3), m.group(4)));
                    continue;
                }
                m = LOADED.matcher(line);
                if (m.find()) {
                    out.add(new Applied(
                            0, node, Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), null, m.group(3)));
                }
            }
        }
        return out;
    }

    /**
     * Writes the trace of every node whose log exists ({@code node -> log}) to {@code file} and
     * returns it.
     */
    static Path write(Map<String, Path> logs, Path file) throws IOException {
        try (History.Writer w = new History.Writer(file)) {
            for (Map.Entry<String, Path> e : logs.entrySet()) {
                if (Files.exists(e.getValue())) {
                    for (Applied a : read(e.getKey(), e.getValue())) {
                        w.append(a);
                    }
                }
            }
        }
        return file;
    }
}
