package io.holdfast.it.docs;

import io.holdfast.it.docs.Snippets.Block;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Python, Node and Go blocks as programs: each in a file of its own under {@code out}, inside the
 * wrapper that supplies only what a fragment leaves out, and built first for Go (a module of its own
 * that uses this repository's client through a {@code replace}).
 */
final class Programs {
    private final Path root;
    private final Path out;
    private final Map<String, String> env;

    Programs(Path root, Path out, Map<String, String> env) {
        this.root = root;
        this.out = out;
        this.env = env;
    }

    /** The command that runs {@code block}'s program; an AssertionError if a Go program does not build. */
    String prepare(Block block, Path buildLog) throws Exception {
        String name = block.page().replaceAll("\\W", "_") + "_" + block.line();
        return switch (block.kind()) {
            case PYTHON -> "python3 " + write(out.resolve("python"), name + ".py", wrapPython(block.body()));
            case NODE -> {
                // examples/NAME.js beside a dist/ that is the Node client's build: require("../dist") works
                Path dist = out.resolve("node").resolve("dist");
                if (!Files.exists(dist)) {
                    Files.createDirectories(dist.getParent());
                    Files.createSymbolicLink(dist, root.resolve("clients/node/dist"));
                }
                yield "node " + write(out.resolve("node/examples"), name + ".js", wrapNode(block.body()));
            }
            case GO -> buildGo(block, name, wrapGo(block.body()), buildLog).toString();
            default -> throw new IllegalArgumentException(block.where() + " is no program");
        };
    }

    private static Path write(Path dir, String name, String source) throws java.io.IOException {
        Files.createDirectories(dir);
        return Files.writeString(dir.resolve(name), source);
    }

    static String wrapPython(String body) {
        return "import holdfast  # the test's wrapper: the import a fragment leaves out\n" + body;
    }

    static String wrapNode(String body) {
        return "// the test's wrapper: the require and the async function a fragment leaves out\n"
                + "const { Client, LockTimeoutError } = require(\"../dist\");\n"
                + "(async () => {\n" + body + "})().catch((e) => { console.error(e); process.exit(1); });\n";
    }

    static String wrapGo(String body) {
        if (body.contains("package main")) {
            return body;
        }
        return String.join(
                "\n",
                "// The test's wrapper: the package, imports, main and ctx a fragment leaves out.",
                "package main",
                "",
                "import (",
                "\t\"context\"",
                "\t\"fmt\"",
                "\t\"log\"",
                "\t\"os\"",
                "\t\"time\"",
                "",
                "\tholdfast \"github.com/holdfast-io/holdfast/clients/go\"",
                ")",
                "",
                "var _, _, _, _, _ = fmt.Sprint, log.Print, os.Getenv, time.Second, holdfast.Wait",
                "",
                "func main() {",
                "\tctx := context.Background()",
                "\t_ = ctx",
                body + "}",
                "");
    }

    /** Builds a Go snippet as a module of its own that uses the client of this repository. */
    private Path buildGo(Block block, String name, String source, Path log) throws Exception {
        Path dir = Files.createDirectories(out.resolve("go").resolve(name));
        Files.writeString(dir.resolve("main.go"), source);
        Files.writeString(
                dir.resolve("go.mod"),
                String.join(
                        "\n",
                        "module holdfast.snippet",
                        "",
                        "go 1.19",
                        "",
                        "require github.com/holdfast-io/holdfast/clients/go v0.0.0",
                        "",
                        "replace github.com/holdfast-io/holdfast/clients/go => " + root.resolve("clients/go"),
                        ""));
        ProcessBuilder pb = new ProcessBuilder("go", "build", "-o", "snippet", ".")
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            Netns.stop(p);
            throw new AssertionError(block.where() + ": go build ran past 300 s");
        }
        if (p.exitValue() != 0) {
            throw new AssertionError(block.where() + ": the go snippet does not build: " + Tails.of(log));
        }
        return dir.resolve("snippet");
    }
}
