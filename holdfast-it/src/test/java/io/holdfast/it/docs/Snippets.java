package io.holdfast.it.docs;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fenced blocks of a Markdown page, each with what it is and how it is to be run, read at test
 * time so that editing a page edits the test (CONTRIBUTING.md, "Snippets in the docs run").
 *
 * <p>What a block is comes from its fence's info string: {@code sh} (also {@code bash}, {@code
 * shell}) is commands; {@code python}, {@code js} and {@code go} are programs or fragments of one;
 * {@code text} and {@code console} are output, never run; {@code java}, {@code xml}, {@code json},
 * {@code properties} and {@code yaml} are not run by this test. A fence without an info string, or
 * with one not listed, is an error: its author says what it is. A {@code ts} block cannot be run
 * here and must be marked.
 *
 * <p>Markers are HTML comments on the lines just before the fence (invisible on the rendered
 * page), each with a reason:
 *
 * <ul>
 *   <li>{@code <!-- not run: REASON -->}: the block is not run;
 *   <li>{@code <!-- not run "PREFIX": REASON -->}: its commands that begin with PREFIX are not run;
 *   <li>{@code <!-- background: REASON -->} and {@code <!-- background "PREFIX": REASON -->}: its
 *       commands (those beginning with PREFIX) run in the background, as in a terminal of their own,
 *       until the page's blocks are done: the next command runs once it has printed something, and
 *       it must not exit with a code other than 0 meanwhile.
 * </ul>
 */
final class Snippets {
    /** What a block holds. */
    enum Kind {
        COMMANDS,
        PYTHON,
        NODE,
        GO,
        /** Code this test has no runner for: it must be marked not run. */
        UNRUNNABLE,
        /** Output, or a language this test does not run. */
        NOT_CODE
    }

    enum Action {
        NOT_RUN,
        BACKGROUND
    }

    /** A marker: its action, the commands it applies to (null: every one), and why. */
    record Marker(Action action, String prefix, String reason) {
        boolean appliesTo(String command) {
            return prefix == null || command.startsWith(prefix);
        }
    }

    /**
     * A fenced block: its page and the line of its opening fence, its info string and kind, its
     * body (without the fence's indentation), its markers, and the error that makes it unusable.
     */
    record Block(String page, int line, String info, Kind kind, String body, List<Marker> markers, String error) {
        String where() {
            return page + ":" + line;
        }

        /** The block's marker without a prefix of {@code action}, or null. */
        Marker whole(Action action) {
            return markers.stream()
                    .filter(m -> m.action() == action && m.prefix() == null)
                    .findFirst()
                    .orElse(null);
        }

        /**
         * The commands of a {@code sh} block: its lines with backslash continuations joined,
         * without blank lines and comment lines.
         */
        List<String> commands() {
            List<String> out = new ArrayList<>();
            StringBuilder current = new StringBuilder();
            for (String line : body.split("\n", -1)) {
                String trimmed = line.strip();
                if (current.length() == 0 && (trimmed.isEmpty() || trimmed.startsWith("#"))) {
                    continue;
                }
                if (trimmed.endsWith("\\")) {
                    current.append(trimmed.substring(0, trimmed.length() - 1).strip())
                            .append(' ');
                } else {
                    out.add(current.append(trimmed).toString().strip());
                    current.setLength(0);
                }
            }
            if (current.length() > 0) {
                out.add(current.toString().strip());
            }
            return out;
        }
    }

    private static final Pattern FENCE = Pattern.compile("^( *)(```|~~~)\\s*([^\\s`]*).*$");
    private static final Pattern MARKER = Pattern.compile("^\\s*<!--\\s*(not run|background)\\b(.*)-->\\s*$");
    private static final Pattern MARKER_ARGS = Pattern.compile("^(?:\\s+\"([^\"]+)\")?:\\s*(\\S.*?)\\s*$");

    private Snippets() {}

    /** The blocks of {@code text}, the page {@code page}, in order. */
    static List<Block> parse(String page, String text) {
        List<Block> blocks = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        List<Marker> markers = new ArrayList<>();
        List<String> markerErrors = new ArrayList<>();
        int markerLine = 0;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            Matcher marker = MARKER.matcher(line);
            if (marker.matches()) {
                Matcher args = MARKER_ARGS.matcher(marker.group(2));
                if (args.matches()) {
                    Action action = marker.group(1).equals("not run") ? Action.NOT_RUN : Action.BACKGROUND;
                    markers.add(new Marker(action, args.group(1), args.group(2)));
                } else {
                    markerErrors.add("the marker on line " + (i + 1) + " is not `<!-- " + marker.group(1)
                            + " [\"PREFIX\"]: REASON -->`");
                }
                markerLine = markerLine == 0 ? i + 1 : markerLine;
                continue;
            }
            Matcher fence = FENCE.matcher(line);
            if (!fence.matches()) {
                if (markerLine != 0) {
                    blocks.add(new Block(
                            page,
                            markerLine,
                            "",
                            Kind.NOT_CODE,
                            "",
                            List.of(),
                            "the marker on line " + markerLine + " is not just before a fenced block"));
                    markers.clear();
                    markerErrors.clear();
                    markerLine = 0;
                }
                continue;
            }
            int indent = fence.group(1).length();
            String close = fence.group(2);
            String info = fence.group(3).toLowerCase(Locale.ROOT);
            StringBuilder body = new StringBuilder();
            int start = i + 1;
            for (i++; i < lines.length && !lines[i].strip().startsWith(close); i++) {
                String l = lines[i];
                int cut = 0;
                while (cut < indent && cut < l.length() && l.charAt(cut) == ' ') {
                    cut++;
                }
                body.append(l.substring(cut)).append('\n');
            }
            Kind kind = kind(info);
            String error = markerErrors.isEmpty() ? null : String.join("; ", markerErrors);
            if (error == null) {
                error = check(info, kind, markers, body.toString());
            }
            blocks.add(new Block(page, start, info, kind, body.toString(), List.copyOf(markers), error));
            markers.clear();
            markerErrors.clear();
            markerLine = 0;
        }
        return blocks;
    }

    static Kind kind(String info) {
        return switch (info) {
            case "sh", "bash", "shell" -> Kind.COMMANDS;
            case "python" -> Kind.PYTHON;
            case "js", "javascript" -> Kind.NODE;
            case "go" -> Kind.GO;
            case "ts", "typescript" -> Kind.UNRUNNABLE;
            case "text", "console", "java", "xml", "json", "properties", "yaml" -> Kind.NOT_CODE;
            default -> null;
        };
    }

    /** Why the block and its markers do not go together, or null. */
    private static String check(String info, Kind kind, List<Marker> markers, String body) {
        if (kind == null) {
            return info.isEmpty()
                    ? "a fence without an info string: say what the block is (sh, python, js, go, text, ...)"
                    : "a fence of an unknown kind `" + info + "`";
        }
        boolean runs = markers.stream().noneMatch(m -> m.action() == Action.NOT_RUN && m.prefix() == null);
        if (kind == Kind.UNRUNNABLE && runs) {
            return "a `" + info + "` block the test cannot run: mark it <!-- not run: REASON -->";
        }
        for (Marker m : markers) {
            if ((m.action() == Action.BACKGROUND || m.prefix() != null) && kind != Kind.COMMANDS) {
                return "a marker with a prefix or `background` on a block that is not commands";
            }
            if (m.prefix() != null
                    && new Block("", 0, info, kind, body, List.of(), null)
                            .commands().stream().noneMatch(m::appliesTo)) {
                return "no command of the block begins with \"" + m.prefix() + "\"";
            }
        }
        return null;
    }
}
