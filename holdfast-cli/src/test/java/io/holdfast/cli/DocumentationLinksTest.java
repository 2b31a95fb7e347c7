package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every relative link in the repository's Markdown (README.md, docs/, examples/, each module's
 * README) names a file or directory that exists inside the repository, and an anchor into a Markdown
 * page ({@code page.md#part}, or {@code #part} within the page) names one of its headings as GitHub
 * spells it: a reader of a fresh clone can follow it. Links to web pages are not checked.
 */
class DocumentationLinksTest {
    /** {@code [text](target)} and {@code [text](target "title")}; images too. */
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");

    /** An ATX heading: up to three spaces, one to six '#', its text, optional closing '#'s. */
    private static final Pattern HEADING = Pattern.compile("^ {0,3}#{1,6}\\s+(.*?)(?:\\s+#+)?\\s*$");

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
                        "# Top: the page's own heading (2026-12-06, 13:08–13:33 UTC)",
                        "[anchor](#top-the-pages-own-heading-2026-12-06-13081333-utc) [dir](docs/) [mail](mailto:a@b.c)",
                        "[missing](docs/gone.md) [outside](../outside.md \"a title\")",
                        "[a dash kept](#top-the-pages-own-heading-2026-12-06-1308-1333-utc) [no heading](docs/there.md#gone)",
                        "```",
                        "# not a heading inside a code block",
                        "```",
                        "[in code](#not-a-heading-inside-a-code-block)",
                        ""));

        assertThat(brokenLinks(repo, markdownPages(repo)))
                .containsExactly(
                        "README.md: docs/gone.md (no such file)",
                        "README.md: ../outside.md (outside the repository)",
                        "README.md: #top-the-pages-own-heading-2026-12-06-1308-1333-utc (no such heading)",
                        "README.md: docs/there.md#gone (no such heading)",
                        "README.md: #not-a-heading-inside-a-code-block (no such heading)");
    }

    @Test
    void aHeadingsAnchorIsSpelledAsGitHubSpellsIt() {
        assertThat(anchors("# A cell for a fleet\n## Issue 69's measures: 0.8–0.9× (a `b_c`)\n# A cell for a fleet\n"))
                .containsExactlyInAnyOrder(
                        "a-cell-for-a-fleet", "issue-69s-measures-0809-a-b_c", "a-cell-for-a-fleet-1");
    }

    static List<String> brokenLinks(Path root, List<Path> pages) {
        List<String> broken = new ArrayList<>();
        for (Path page : pages) {
            String text = read(page);
            Matcher m = LINK.matcher(text);
            while (m.find()) {
                String target = m.group(1);
                if (SCHEME.matcher(target).find()) {
                    continue;
                }
                int hash = target.indexOf('#');
                String file = hash >= 0 ? target.substring(0, hash) : target;
                Path resolved =
                        file.isEmpty() ? page : page.getParent().resolve(file).normalize();
                String where = root.relativize(page) + ": " + target;
                if (!resolved.startsWith(root)) {
                    broken.add(where + " (outside the repository)");
                } else if (!Files.exists(resolved)) {
                    broken.add(where + " (no such file)");
                } else if (hash >= 0
                        && resolved.toString().endsWith(".md")
                        && !anchors(read(resolved)).contains(target.substring(hash + 1))) {
                    broken.add(where + " (no such heading)");
                }
            }
        }
        return broken;
    }

    /**
     * The anchors of a page's headings as GitHub makes them: lower case, every character but
     * letters, digits, spaces, hyphens and underscores dropped, spaces made hyphens; a repeated one
     * gets "-1", "-2"... Lines inside fenced code blocks are not headings.
     */
    static Set<String> anchors(String page) {
        Set<String> anchors = new HashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        boolean inCode = false;
        for (String line : page.split("\n", -1)) {
            if (line.startsWith("```")) {
                inCode = !inCode;
            }
            Matcher m = HEADING.matcher(line);
            if (inCode || !m.matches()) {
                continue;
            }
            StringBuilder slug = new StringBuilder();
            m.group(1).toLowerCase(Locale.ROOT).codePoints().forEach(c -> {
                if (Character.isLetterOrDigit(c) || c == '-' || c == '_') {
                    slug.appendCodePoint(c);
                } else if (c == ' ') {
                    slug.append('-');
                }
            });
            String base = slug.toString();
            int n = seen.merge(base, 1, Integer::sum) - 1;
            anchors.add(n == 0 ? base : base + "-" + n);
        }
        return anchors;
    }

    private static String read(Path page) {
        try {
            return Files.readString(page);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
