package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every relative link in the repository's Markdown (README.md, docs/, examples/, each module's
 * README) names a file or directory that exists inside the repository: a reader of a fresh clone
 * can follow it. Links to web pages and anchors within a page are not checked.
 */
class DocumentationLinksTest {
    /** {@code [text](target)} and {@code [text](target "title")}; images too. */
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");

    private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*:");

    @Test
    void everyRelativeLinkInTheRepositoryResolvesInsideIt() {
        Path root = repositoryRoot();
        List<Path> pages = markdownPages(root);
        assertThat(pages)
                .as("the pages checked")
                .contains(root.resolve("README.md"), root.resolve("docs/benchmarks.md"));
        assertThat(brokenLinks(root, pages)).isEmpty();
    }

    @Test
    void aMissingTargetAndATargetOutsideTheRepositoryAreBothReported(@TempDir Path dir) throws IOException {
        Path repo = Files.createDirectories(dir.resolve("repo"));
        Files.createDirectories(repo.resolve("docs"));
        Files.writeString(repo.resolve("docs/there.md"), "# there\n");
        Files.writeString(dir.resolve("outside.md"), "# outside\n");
        Files.writeString(
                repo.resolve("README.md"),
                String.join(
                        "\n",
                        "[ok](docs/there.md) [ok with anchor](docs/there.md#there) [web](https://example.org/x)",
                        "[anchor](#top) [dir](docs/) [mail](mailto:a@b.c)",
                        "[missing](docs/gone.md) [outside](../outside.md \"a title\")",
                        ""));

        assertThat(brokenLinks(repo, markdownPages(repo)))
                .containsExactly(
                        "README.md: docs/gone.md (no such file)", "README.md: ../outside.md (outside the repository)");
    }

    static List<String> brokenLinks(Path root, List<Path> pages) {
        List<String> broken = new ArrayList<>();
        for (Path page : pages) {
            String text;
            try {
                text = Files.readString(page);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Matcher m = LINK.matcher(text);
            while (m.find()) {
                String target = m.group(1);
                if (target.startsWith("#") || SCHEME.matcher(target).find()) {
                    continue;
                }
                int hash = target.indexOf('#');
                String file = hash >= 0 ? target.substring(0, hash) : target;
                Path resolved = page.getParent().resolve(file).normalize();
                String where = root.relativize(page) + ": " + target;
                if (!resolved.startsWith(root)) {
                    broken.add(where + " (outside the repository)");
                } else if (!Files.exists(resolved)) {
                    broken.add(where + " (no such file)");
                }
            }
        }
        return broken;
    }

    /** README.md and every Markdown file below the root, outside build outputs and hidden folders. */
    static List<Path> markdownPages(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(p -> p.toString().endsWith(".md"))
                    .filter(p -> {
                        for (Path part : root.relativize(p)) {
                            String s = part.toString();
                            if (s.equals("target") || s.equals("node_modules") || s.startsWith(".")) {
                                return false;
                            }
                        }
                        return true;
                    })
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The module's parent directory: the repository root (Maven runs tests in the module's directory). */
    static Path repositoryRoot() {
        Path root = Path.of("").toAbsolutePath().getParent();
        assertThat(root.resolve("pom.xml")).as("the repository root").exists();
        return root;
    }
}
