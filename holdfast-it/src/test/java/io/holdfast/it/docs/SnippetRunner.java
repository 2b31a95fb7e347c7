package io.holdfast.it.docs;

import static org.awaitility.Awaitility.await;

import io.holdfast.it.conformance.Clients;
import io.holdfast.it.docs.Snippets.Action;
import io.holdfast.it.docs.Snippets.Block;
import io.holdfast.it.docs.Snippets.Marker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.opentest4j.TestAbortedException;

/**
 * Runs the blocks of a page as a reader would, each in a private network namespace ({@link Netns}),
 * against a real {@code holdfast server} on the documented default ports.
 *
 * <ul>
 *   <li>Commands ({@code sh}) run one by one, each in a fresh {@code sh -c} in a directory that
 *       looks like the repository's root (every top-level entry linked, its own {@code ./data}),
 *       and must exit 0 within a minute. {@code ./holdfast} is the repository's launcher, run with
 *       the jar the build made ({@code HOLDFAST_SKIP_BUILD=1}).
 *   <li>A block that starts servers ({@code holdfast server ...}, each as in a terminal of its own:
 *       in the background) gets a namespace and a directory of its own for the block; its next
 *       command runs once every server's HTTP port says {@code /ready}. Servers must still run (or
 *       have exited 0) at the block's end.
 *   <li>Every other block runs in one shared namespace where {@code ./holdfast server} runs, as the
 *       Quick start starts it (client port 4653, HTTP 4655), started at the first block that needs it;
 *       in a block, the command {@code ./holdfast server} alone is that server.
 *   <li>Python, Node and Go blocks run with that server too, inside a wrapper that supplies what a
 *       fragment leaves out (imports; for Node an async function; for Go {@code package main}, a
 *       {@code main} and {@code ctx}); a whole program ({@code package main}) runs as it is. The
 *       snippet's own lines are run verbatim.
 * </ul>
 */
final class SnippetRunner implements AutoCloseable {
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);
    /**
     * How long a background command has to fail before the end of its page, counted from its
     * start: a JVM that fails on its arguments takes about 1 s here, and over 3 s at a load of 28.
     */
    static final Duration BACKGROUND_WINDOW = Duration.ofSeconds(8);

    private static final Pattern SERVER = Pattern.compile("^(\\S*/)?holdfast server(\\s.*)?$");
    private static final Pattern CD = Pattern.compile("^cd ([^\\s;&|]+)$");
    private static final Pattern HTTP_PORT = Pattern.compile("--http-port[ =](\\d+)");
    static final int DEFAULT_HTTP_PORT = 4655;
    /** The Quick start's server: the one the shared namespace runs. */
    static final String SHARED_SERVER = "./holdfast server";
    /**
     * {@code HOLDFAST_MEMBERS} for the programs: a member that is not there first, then the server,
     * so that an example that does not read the variable as a list of members fails.
     */
    static final String MEMBERS = "http://127.0.0.1:5655,http://127.0.0.1:" + DEFAULT_HTTP_PORT;

    private final Path root;
    private final Path out;
    private final Map<String, String> env;
    private final Programs programs;
    private Netns shared;
    private Path sharedDir;
    private Process sharedServer;
    private int dirs;
    private int logs;

    /** A runner of the repository at {@code root}, keeping its directories and logs under {@code out}. */
    SnippetRunner(Path root, Path out) throws IOException {
        this.root = root;
        this.out = out;
        deleteTree(out);
        Files.createDirectories(out);
        this.env = Map.of(
                "HOLDFAST_SKIP_BUILD", "1",
                "PYTHONPATH", root.resolve("clients/python").toString(),
                "GOFLAGS", "-mod=mod",
                "GOPROXY", "off",
                "GOWORK", "off");
        this.programs = new Programs(root, out, env);
    }

    /** Runs {@code block}; an AssertionError says where and why it failed. */
    void run(Block block) throws Exception {
        if (block.error() != null) {
            throw new AssertionError(block.where() + ": " + block.error());
        }
        Marker notRun = block.whole(Action.NOT_RUN);
        if (notRun != null) {
            throw new TestAbortedException(block.where() + " is marked not run: " + notRun.reason());
        }
        switch (block.kind()) {
            case COMMANDS -> commands(block);
            case PYTHON -> program(block, "python");
            case NODE -> program(block, "node");
            case GO -> program(block, "go");
            default -> throw new TestAbortedException(block.where() + " is " + block.info() + ", not run");
        }
    }

    private void commands(Block block) throws Exception {
        List<String> commands = block.commands();
        boolean servers =
                commands.stream().anyMatch(c -> marker(block, c) == null && isServer(c) && !c.equals(SHARED_SERVER));
        Netns ns = servers ? new Netns() : shared();
        Path dir = servers ? newDir() : sharedDir;
        List<String> failed = new ArrayList<>();
        try {
            List<Integer> starting = new ArrayList<>();
            List<Process> started = new ArrayList<>();
            for (String command : commands) {
                Marker m = marker(block, command);
                if (m != null && m.action() == Action.NOT_RUN) {
                    continue;
                }
                Matcher cd = CD.matcher(command);
                if (cd.matches()) { // as in a terminal: the block's next commands run there
                    dir = dir.resolve(cd.group(1)).normalize();
                    continue;
                }
                if (command.equals(SHARED_SERVER) && !servers) {
                    continue; // the shared namespace's server is this one, started as written
                }
                if (isServer(command)) {
                    started.add(ns.background(block.where(), command, dir, env, newLog(block))
                            .process());
                    starting.add(httpPort(command));
                    continue;
                }
                if (m != null) {
                    awaitOutput(block, ns.background(block.where(), command, dir, env, newLog(block)));
                    continue;
                }
                awaitReady(ns, block, starting, started);
                Path log = newLog(block);
                int code = ns.run(command, dir, env, log, COMMAND_TIMEOUT);
                if (code != 0) {
                    throw new AssertionError(block.where() + ": `" + command + "` "
                            + (code < 0 ? "ran past " + COMMAND_TIMEOUT.toSeconds() + " s" : "exited " + code)
                            + ": " + Tails.of(log));
                }
            }
            awaitReady(ns, block, starting, started);
        } finally {
            if (servers) {
                failed.addAll(ns.stopBackground(BACKGROUND_WINDOW));
                ns.close();
            }
        }
        if (!failed.isEmpty()) {
            throw new AssertionError(String.join("\n", failed));
        }
    }

    /** The marker of {@code block} that applies to {@code command}: one with a prefix first. */
    private static Marker marker(Block block, String command) {
        return block.markers().stream()
                .filter(m -> m.appliesTo(command))
                .min(Comparator.comparing(m -> m.prefix() == null))
                .orElse(null);
    }

    static boolean isServer(String command) {
        return SERVER.matcher(command).matches();
    }

    private static int httpPort(String command) {
        Matcher m = HTTP_PORT.matcher(command);
        return m.find() ? Integer.parseInt(m.group(1)) : DEFAULT_HTTP_PORT;
    }

    /**
     * Waits until a background command has printed something (as a reader waits to see it run before
     * typing the next command); fails if it exits with a code other than 0 first, or stays silent.
     */
    private static void awaitOutput(Block block, Netns.Background b) {
        await(block.where() + ": `" + b.command() + "` printing its first line")
                .atMost(COMMAND_TIMEOUT)
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    if (!b.process().isAlive() && b.process().exitValue() != 0) {
                        throw new AssertionError(block.where() + ": `" + b.command() + "` (in the background) exited "
                                + b.process().exitValue() + ": " + Tails.of(b.log()));
                    }
                    return Files.size(b.log()) > 0 || !b.process().isAlive();
                });
    }

    /** Waits until every starting server says it is ready (knows a leader); fails if one stopped. */
    private void awaitReady(Netns ns, Block block, List<Integer> ports, List<Process> servers) {
        if (ports.isEmpty()) {
            return;
        }
        Path log = newLog(block);
        await("the servers of " + block.where() + " ready on HTTP ports " + ports)
                .atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(250))
                .until(() -> {
                    for (Process p : servers) {
                        if (!p.isAlive()) {
                            throw new AssertionError(block.where() + ": a server exited " + p.exitValue()
                                    + " while starting (logs under " + out + ")");
                        }
                    }
                    for (int port : ports) {
                        String url = "http://127.0.0.1:" + port + "/ready";
                        if (ns.run("curl -sf -o /dev/null " + url, out, env, log, Duration.ofSeconds(5)) != 0) {
                            return false;
                        }
                    }
                    return true;
                });
        ports.clear();
        servers.clear();
    }

    /** The shared namespace, with {@code ./holdfast server} running in it. */
    private Netns shared() throws Exception {
        if (shared == null) {
            shared = new Netns();
            sharedDir = newDir();
            Path log = out.resolve("logs/shared-server.log");
            sharedServer = shared.start(SHARED_SERVER, sharedDir, env, log);
            awaitReady(
                    shared,
                    new Block("shared server", 0, "sh", Snippets.Kind.COMMANDS, "", List.of(), null),
                    new ArrayList<>(List.of(DEFAULT_HTTP_PORT)),
                    new ArrayList<>(List.of(sharedServer)));
        }
        return shared;
    }

    /** Ends a page: its background commands must still run, or have exited 0. */
    void endPage() throws InterruptedException {
        if (shared == null) {
            return;
        }
        List<String> failed = shared.stopBackground(BACKGROUND_WINDOW);
        if (!failed.isEmpty()) {
            throw new AssertionError(String.join("\n", failed));
        }
    }

    // ------------------------------------------------------------------ programs

    private void program(Block block, String client) throws Exception {
        Clients.Start start = Clients.start(client);
        if (start.missing() != null) {
            String why = "the " + client + " client cannot run here: " + start.missing();
            if (Clients.REQUIRED) {
                throw new AssertionError(why + " (HOLDFAST_REQUIRE_CLIENTS=true)");
            }
            throw new TestAbortedException(why);
        }
        String command = programs.prepare(block, newLog(block));
        Netns ns = shared();
        Path log = newLog(block);
        Map<String, String> programEnv = new java.util.HashMap<>(env);
        programEnv.put("HOLDFAST_MEMBERS", MEMBERS);
        int code = ns.run(command, sharedDir, programEnv, log, COMMAND_TIMEOUT);
        if (code != 0) {
            throw new AssertionError(block.where() + ": the " + block.info() + " snippet "
                    + (code < 0 ? "ran past " + COMMAND_TIMEOUT.toSeconds() + " s" : "exited " + code) + ": "
                    + Tails.of(log));
        }
    }

    // ------------------------------------------------------------------ directories

    /** A directory like the repository's root: each top-level entry linked, but no data/. */
    private Path newDir() throws IOException {
        Path dir = Files.createDirectories(out.resolve("dir-" + ++dirs));
        try (Stream<Path> entries = Files.list(root)) {
            for (Path e : entries.toList()) {
                String n = e.getFileName().toString();
                if (!n.equals("data") && !n.equals(".git")) {
                    Files.createSymbolicLink(dir.resolve(n), e);
                }
            }
        }
        return dir;
    }

    private Path newLog(Block block) {
        return out.resolve("logs")
                .resolve(block.page().replaceAll("\\W", "_") + "-" + block.line() + "-" + ++logs + ".log");
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Override
    public void close() {
        if (sharedServer != null) {
            try {
                Netns.stop(sharedServer);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (shared != null) {
            shared.close();
        }
        // The links back into the repository go once the servers are stopped (their data and the logs
        // stay): nothing that follows links walks into the repository from target/.
        List<Path> linked = new ArrayList<>(List.of(out.resolve("node")));
        for (int i = 1; i <= dirs; i++) {
            linked.add(out.resolve("dir-" + i));
        }
        for (Path dir : linked) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> entries = Files.list(dir)) {
                for (Path e : entries.filter(Files::isSymbolicLink).toList()) {
                    Files.delete(e);
                }
            } catch (IOException e) {
                // left as it is: the next run deletes the whole directory
            }
        }
    }
}
