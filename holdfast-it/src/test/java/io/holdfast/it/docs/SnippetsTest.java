package io.holdfast.it.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.it.conformance.Clients;
import io.holdfast.it.docs.Snippets.Action;
import io.holdfast.it.docs.Snippets.Block;
import io.holdfast.it.docs.Snippets.Kind;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How a page's blocks are read: kinds, markers, commands, and each mistake an author can make. */
class SnippetsTest {
    @Test
    void blocksAreReadWithTheirKindMarkersAndCommands() {
        List<Block> blocks = Snippets.parse(
                "page.md",
                String.join(
                        "\n",
                        "# A page",
                        "",
                        "<!-- not run \"./mvnw\": it is CI itself -->",
                        "```sh",
                        "./holdfast server",
                        "# a comment",
                        "./mvnw -B verify",
                        "```",
                        "",
                        "1. In a list:",
                        "",
                        "   <!-- background: it runs until stopped -->",
                        "   ```sh",
                        "   ./holdfast watch 'jobs/*' \\",
                        "       --json",
                        "   ```",
                        "",
                        "```console",
                        "$ holdfast members",
                        "```",
                        "```python",
                        "print(1)",
                        "```",
                        ""));

        assertThat(blocks)
                .extracting(Block::kind)
                .containsExactly(Kind.COMMANDS, Kind.COMMANDS, Kind.NOT_CODE, Kind.PYTHON);
        assertThat(blocks).extracting(Block::error).containsOnlyNulls();
        Block first = blocks.get(0);
        assertThat(first.where()).isEqualTo("page.md:4");
        assertThat(first.commands()).containsExactly("./holdfast server", "./mvnw -B verify");
        assertThat(first.markers()).singleElement().satisfies(m -> {
            assertThat(m.action()).isEqualTo(Action.NOT_RUN);
            assertThat(m.prefix()).isEqualTo("./mvnw");
            assertThat(m.reason()).isEqualTo("it is CI itself");
        });
        assertThat(first.whole(Action.NOT_RUN))
                .as("a prefix marker is not the whole block's")
                .isNull();
        Block second = blocks.get(1);
        assertThat(second.commands()).containsExactly("./holdfast watch 'jobs/*' --json");
        assertThat(second.whole(Action.BACKGROUND)).isNotNull();
        assertThat(SnippetRunner.isServer("./holdfast server --id n1 --peers x"))
                .isTrue();
        assertThat(SnippetRunner.isServer("bin/holdfast server")).isTrue();
        assertThat(SnippetRunner.isServer("./holdfast lock jobs/x -- holdfast server"))
                .isFalse();
    }

    @Test
    void eachMistakeOfAnAuthorIsAnError() {
        assertThat(error("```\nholdfast locks\n```\n")).contains("without an info string");
        assertThat(error("```shell-session\n$ x\n```\n")).contains("unknown kind `shell-session`");
        assertThat(error("```ts\nawait x;\n```\n")).contains("cannot run: mark it");
        assertThat(error("<!-- not run: TypeScript -->\n```ts\nawait x;\n```\n"))
                .isNull();
        assertThat(error("<!-- not run -->\n```sh\nx\n```\n"))
                .contains("is not `<!-- not run [\"PREFIX\"]: REASON -->`");
        assertThat(error("<!-- not run \"./gone\": moved -->\n```sh\n./holdfast locks\n```\n"))
                .contains("no command of the block begins with \"./gone\"");
        assertThat(error("<!-- background: forever -->\n```python\nx\n```\n")).contains("not commands");
        assertThat(error("<!-- not run: why -->\n\nSome text.\n```sh\nx\n```\n"))
                .contains("not just before a fenced block");
    }

    private static String error(String page) {
        return Snippets.parse("page.md", page).stream()
                .map(Block::error)
                .filter(e -> e != null)
                .findFirst()
                .orElse(null);
    }

    /** The example a client's README shows, and runs, is its examples/ file: the file ends with it. */
    @Test
    void eachClientsExampleFileIsTheBlockItsReadmeRuns() throws Exception {
        Map<String, String> examples = Map.of(
                "clients/python/README.md", "clients/python/examples/lock.py",
                "clients/node/README.md", "clients/node/examples/lock.js",
                "clients/go/README.md", "clients/go/examples/lock/main.go");
        for (Map.Entry<String, String> e : examples.entrySet()) {
            Block example = Snippets.parse(e.getKey(), Files.readString(Clients.ROOT.resolve(e.getKey()))).stream()
                    .filter(b -> b.kind() == Kind.PYTHON || b.kind() == Kind.NODE || b.kind() == Kind.GO)
                    .findFirst()
                    .orElseThrow();
            String file = Files.readString(Clients.ROOT.resolve(e.getValue()));
            assertThat(file)
                    .as("%s, as %s shows it", e.getValue(), example.where())
                    .endsWith(example.body());
            assertThat(file).as(e.getValue()).contains("HOLDFAST_MEMBERS").doesNotContain("HOLDFAST_URL");
        }
    }
}
