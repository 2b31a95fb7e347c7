package io.holdfast.verify.run;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The nodes that halted during a run, read out of their logs for the run's report: a node whose
 * Raft division closed under it (or that applied another cluster's id) prints {@code HALTED
 * <reason>} and exits 71 ({@link NodeMain}), and the harness restarts it like any crashed node. No
 * checker fails a halt by itself (the one it leaves unavailable may fail {@code availability}); the
 * report names it so that a failed round's cause is on its first page, not only in a node's log.
 */
final class Halts {
    /** A node's log: {@code n<i>.log}. */
    private static final Pattern NODE_LOG = Pattern.compile("(n\\d+)\\.log");

    /** The time a logged line starts with (the server's log pattern: {@code HH:mm:ss.SSS}). */
    private static final Pattern TIME = Pattern.compile("^(\\d{2}:\\d{2}:\\d{2}\\.\\d{3}) ");

    private static final String HALTED = "[stdout] HALTED ";

    private Halts() {}

    /**
     * One line per halt in the node logs under {@code logs}, by node then time: {@code n1 at
     * 03:39:42.100: <reason>} (the time of the last timestamped line before it); empty if none halted
     * or there is no such directory.
     */
    static List<String> in(Path logs) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(logs)) {
            return out;
        }
        List<Path> nodeLogs;
        try (Stream<Path> files = Files.list(logs)) {
            nodeLogs = files.filter(
                            f -> NODE_LOG.matcher(f.getFileName().toString()).matches())
                    .sorted()
                    .toList();
        }
        for (Path log : nodeLogs) {
            Matcher name = NODE_LOG.matcher(log.getFileName().toString());
            name.matches();
            String lastTime = null;
            try (BufferedReader in = Files.newBufferedReader(log, StandardCharsets.UTF_8)) {
                String line;
                while ((line = in.readLine()) != null) {
                    Matcher t = TIME.matcher(line);
                    if (t.find()) {
                        lastTime = t.group(1);
                    } else if (line.startsWith(HALTED)) {
                        out.add(name.group(1) + (lastTime == null ? "" : " at " + lastTime) + ": "
                                + line.substring(HALTED.length()));
                    }
                }
            }
        }
        return out;
    }
}
