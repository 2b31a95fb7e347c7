package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The rule on size, as a ratchet. A main source file of more than {@value #MOST} lines states at
 * its top, in a line comment {@code // Ceiling N lines, one idea: <what it holds and why it is
 * whole>}, the most lines it may have. The test fails when the file grows past its ceiling, when
 * the ceiling sits more than {@value #SLACK} lines above the file (so a file that shrank lowers
 * it, and it never creeps back up), and when the reason is not one (it must name one idea, and
 * "not split yet" or any other promise is not a reason).
 */
class LongFilesTest {
    static final int MOST = 400;
    /** How far above a file's size its ceiling may sit. */
    static final int SLACK = 25;

    private static final Pattern HEADER = Pattern.compile("// Ceiling (\\d+) lines, one idea: (.{20,})");
    private static final Pattern PROMISE = Pattern.compile("(?i)\\b(yet|todo|later|for now)\\b");

    /** The repository root: this module's parent (surefire runs in the module's directory). */
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void everyLongMainFileStatesItsCeilingAndStaysUnderIt() throws IOException {
        List<Path> files = new java.util.ArrayList<>();
        // Build outputs, dependencies and git's objects are pruned, not walked: another test of this
        // module deletes its own files under target/ while this one runs (a walk that reached
        // target/doc-snippets/logs as DocSnippetsTest removed it failed with NoSuchFileException).
        Files.walkFileTree(ROOT, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult preVisitDirectory(
                    Path dir, java.nio.file.attribute.BasicFileAttributes attrs) {
                String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
                return name.equals("target") || name.equals("node_modules") || name.equals(".git")
                        ? java.nio.file.FileVisitResult.SKIP_SUBTREE
                        : java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult visitFile(Path p, java.nio.file.attribute.BasicFileAttributes attrs) {
                if (p.toString().endsWith(".java")
                        && ROOT.relativize(p)
                                .toString()
                                .replace('\\', '/')
                                .matches("(examples/)?[^/]+/src/main/java/.*")) {
                    files.add(p);
                }
                return java.nio.file.FileVisitResult.CONTINUE;
            }
        });
        assertThat(files).as("main sources found under %s", ROOT).hasSizeGreaterThan(200);
        List<String> refused = files.stream()
                .map(p -> verdict(lines(p)).map(why -> ROOT.relativize(p) + ": " + why))
                .flatMap(java.util.Optional::stream)
                .collect(Collectors.toList());
        assertThat(refused).as("main files over %d lines", MOST).isEmpty();
    }

    @Test
    void eachWayOfBreakingTheRuleIsCaught() {
        List<String> body =
                IntStream.range(0, MOST).mapToObj(i -> "// line " + i).toList();
        List<String> longOne = with("package x;", body);
        assertThat(verdict(body)).as("exactly %d lines", MOST).isEmpty();
        assertThat(verdict(longOne))
                .as("no header")
                .hasValueSatisfying(v -> assertThat(v).contains("no ceiling"));
        assertThat(verdict(with("// Ceiling 420 lines, one idea: the whole of one thing, kept together.", longOne)))
                .isEmpty();
        assertThat(verdict(with("// Ceiling 401 lines, one idea: the whole of one thing, kept together.", longOne)))
                .as("grown past the ceiling")
                .hasValueSatisfying(v -> assertThat(v).contains("above its ceiling"));
        assertThat(verdict(with("// Ceiling 900 lines, one idea: the whole of one thing, kept together.", longOne)))
                .as("a ceiling far above the file")
                .hasValueSatisfying(v -> assertThat(v).contains("lower the ceiling"));
        assertThat(verdict(with("// Ceiling 420 lines, one idea: not split yet, it will be some day.", longOne)))
                .as("a promise is no reason")
                .hasValueSatisfying(v -> assertThat(v).contains("a promise"));
        assertThat(verdict(with("// Over 400 lines: the old header.", longOne)))
                .as("the old header")
                .hasValueSatisfying(v -> assertThat(v).contains("no ceiling"));
    }

    private static List<String> with(String first, List<String> rest) {
        return Stream.concat(Stream.of(first), rest.stream()).toList();
    }

    /** Why a file breaks the rule, or empty if it keeps it. */
    static java.util.Optional<String> verdict(List<String> lines) {
        int size = lines.size();
        if (size <= MOST) {
            return java.util.Optional.empty();
        }
        Matcher m = HEADER.matcher(lines.get(0));
        if (!m.matches()) {
            return java.util.Optional.of(
                    size + " lines and no ceiling: begin with \"// Ceiling N lines, one idea: ...\"");
        }
        int ceiling = Integer.parseInt(m.group(1));
        if (size > ceiling) {
            return java.util.Optional.of(size + " lines, above its ceiling of " + ceiling + ": split it along a seam");
        }
        if (ceiling - size > SLACK) {
            return java.util.Optional.of(
                    size + " lines under a ceiling of " + ceiling + ": lower the ceiling to at most " + (size + SLACK));
        }
        if (PROMISE.matcher(m.group(2)).find()) {
            return java.util.Optional.of("its reason is a promise, not one idea: " + m.group(2));
        }
        return java.util.Optional.empty();
    }

    private static List<String> lines(Path p) {
        try {
            return Files.readAllLines(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
