package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Issue 19's rule on size: a main source file of more than {@value #MOST} lines says at its top, in
 * a line comment beginning {@code // Over}, why it is not split (what it holds and why whole, or
 * that it is not split yet). Long files are allowed; unexplained ones are not.
 */
class LongFilesTest {
    static final int MOST = 400;

    /** The repository root: this module's parent (surefire runs in the module's directory). */
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void everyLongMainFileSaysWhyAtItsTop() throws IOException {
        List<Path> files;
        try (Stream<Path> all = Files.walk(ROOT)) {
            files = all.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> ROOT.relativize(p)
                            .toString()
                            .replace('\\', '/')
                            .matches("(examples/)?[^/]+/src/main/java/.*"))
                    .toList();
        }
        assertThat(files).as("main sources found under %s", ROOT).hasSizeGreaterThan(200);
        List<String> unexplained = files.stream()
                .filter(p -> !explained(lines(p)))
                .map(p -> ROOT.relativize(p) + " (" + lines(p).size() + " lines)")
                .collect(Collectors.toList());
        assertThat(unexplained)
                .as("main files over %d lines without a reason at the top", MOST)
                .isEmpty();
    }

    @Test
    void aLongFileWithoutItsReasonIsCaught() {
        List<String> body =
                IntStream.range(0, MOST).mapToObj(i -> "// line " + i).toList();
        List<String> longOne =
                Stream.concat(Stream.of("package x;"), body.stream()).toList();
        assertThat(explained(longOne)).as("%d lines, no reason", longOne.size()).isFalse();
        assertThat(explained(Stream.concat(Stream.of("// Over 400 lines: why."), longOne.stream())
                        .toList()))
                .isTrue();
        assertThat(explained(body)).as("exactly %d lines", MOST).isTrue();
    }

    static boolean explained(List<String> lines) {
        return lines.size() <= MOST || lines.get(0).startsWith("// Over");
    }

    private static List<String> lines(Path p) {
        try {
            return Files.readAllLines(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
