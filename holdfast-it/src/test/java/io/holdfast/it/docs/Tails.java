package io.holdfast.it.docs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The last lines of a log, on one line, for a failure's message. */
final class Tails {
    private Tails() {}

    static String of(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 8), lines.size())) + " (" + log + ")";
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }
}
