package io.holdfast.it.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.it.conformance.Clients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * Every command block and every Python, Node and Go snippet of the pages a new user follows runs,
 * as written, against a real {@code holdfast server} ({@link SnippetRunner}), or is marked not run
 * with its reason ({@link Snippets}; CONTRIBUTING.md, "Snippets in the docs run"). The blocks are
 * read from the Markdown when the test runs: one dynamic test per block, named by its page and
 * line; a block marked not run shows as skipped with its reason.
 *
 * <p>Needs root for the network namespaces (CI runs as root) and python3, node and go for the
 * clients' snippets: without them it is skipped with the reason, unless {@code
 * HOLDFAST_REQUIRE_CLIENTS=true} (CI), which makes it fail instead.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DocSnippetsTest {
    /** The pages whose blocks run. */
    static final List<String> PAGES = List.of(
            "README.md",
            "clients/python/README.md",
            "clients/node/README.md",
            "clients/go/README.md",
            "docs/elections.md",
            "docs/operations.md");

    private SnippetRunner runner;

    @BeforeAll
    void start() throws Exception {
        String why = Netns.unavailable();
        if (why != null) {
            String message = "no private network namespace for the docs' snippets here: " + why;
            if (Clients.REQUIRED) {
                throw new AssertionError(message + " (HOLDFAST_REQUIRE_CLIENTS=true)");
            }
            Assumptions.abort(message);
        }
        runner = new SnippetRunner(
                Clients.ROOT, Path.of("target", "doc-snippets").toAbsolutePath());
    }

    @AfterAll
    void stop() {
        if (runner != null) {
            runner.close();
        }
    }

    @TestFactory
    Stream<DynamicNode> everySnippetOfTheDocsRunsOrSaysWhyNot() throws Exception {
        return PAGES.stream().map(page -> {
            List<Snippets.Block> blocks;
            try {
                blocks = Snippets.parse(page, Files.readString(Clients.ROOT.resolve(page)));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            Stream<DynamicTest> each = blocks.stream()
                    .filter(b -> b.kind() != Snippets.Kind.NOT_CODE || b.error() != null)
                    .map(b -> DynamicTest.dynamicTest("line " + b.line() + " (" + b.info() + ")", () -> runner.run(b)));
            DynamicTest end = DynamicTest.dynamicTest("background commands of the page", runner::endPage);
            return DynamicContainer.dynamicContainer(page, Stream.concat(each, Stream.of(end)));
        });
    }

    /**
     * The snippets the pages had before this test, each broken in its own way, fail it, while a sound
     * one beside them passes: the test can fail.
     */
    @Test
    void aBrokenSnippetFailsTheTest() throws Exception {
        List<Snippets.Block> blocks = Snippets.parse(
                "broken.md",
                String.join(
                        "\n",
                        "```sh",
                        "./holdfast lock jobs/nightly -- ./nightly.sh",
                        "```",
                        "```js",
                        "const client = await Client.connect({ members: [\"http://127.0.0.1:4655\"] });",
                        "const lease = await client.acquire(\"jobs/nightly\", { waitMs: 10_000, signal });",
                        "try { console.log(`fencing token ${lease.fencingToken}`); } finally { await lease.release(); await client.close(); }",
                        "```",
                        "```go",
                        "c, err := holdfast.New(ctx, holdfast.Config{Members: []string{\"http://127.0.0.1:4655\"}})",
                        "defer c.Close()",
                        "```",
                        "```python",
                        "with holdfast.Client([\"http://127.0.0.1:4655\"]) as client:",
                        "    print(lease.fencing_token)",
                        "```",
                        "```sh",
                        "./holdfast locks",
                        "```",
                        ""));
        assertThat(blocks).hasSize(5);
        // A client that cannot run here (no go on a developer's machine) aborts its own snippet: the
        // others are still checked, and the test then ends as skipped with the reason, not passed.
        List<String> notRun = new java.util.ArrayList<>();
        for (Snippets.Block broken : blocks.subList(0, 4)) {
            Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> runner.run(broken));
            if (thrown instanceof org.opentest4j.TestAbortedException aborted) {
                notRun.add(aborted.getMessage());
                continue;
            }
            assertThat(thrown)
                    .as(broken.body())
                    .isInstanceOf(AssertionError.class)
                    .hasMessageStartingWith(broken.where() + ": ");
        }
        runner.run(blocks.get(4));

        Snippets.Block background = Snippets.parse(
                        "broken.md",
                        "<!-- background: follows -->\n```sh\n./holdfast watch --no-such-option 'x*'\n```\n")
                .get(0);
        assertThatThrownBy(() -> {
                    runner.run(background);
                    runner.endPage();
                })
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("(in the background) exited 64");
        Assumptions.assumeTrue(
                notRun.isEmpty(), () -> "every other broken snippet failed it; not run: " + String.join("; ", notRun));
    }
}
