package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MainTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(Map<String, String> env, String... args) {
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), env)
                .execute(args);
    }

    private int run(String... args) {
        return run(Map.of(), args);
    }

    @Test
    void anUnavailableBackendsLineEndsWithTheDeepestCauseUnlessItSaysItAlready() {
        var driver = new java.sql.SQLException(
                "Connection to db:5432 refused", new java.net.ConnectException("Connection refused"));
        var pool = new java.sql.SQLTransientConnectionException("request timed out after 10000ms", driver);

        assertThat(Main.withRootCause(new io.holdfast.UnavailableException("jdbc: open failed: timed out", pool)))
                .isEqualTo("jdbc: open failed: timed out: Connection refused");
        assertThat(Main.withRootCause(new io.holdfast.UnavailableException(
                        "no member could serve the call (db:4653: connection refused)",
                        new java.net.ConnectException("Connection refused"))))
                .as("not said twice")
                .isEqualTo("no member could serve the call (db:4653: connection refused)");
        assertThat(Main.withRootCause(new io.holdfast.UnavailableException(
                        "db:4653 did not answer", io.grpc.Status.UNAVAILABLE.asRuntimeException())))
                .as("gRPC's status exceptions only repeat the message")
                .isEqualTo("db:4653 did not answer");
    }

    @Test
    void helpListsTheSubcommands() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString())
                .contains("Usage: holdfast")
                .contains("server")
                .contains("lock")
                .contains("demo");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void versionNamesTheProgram() {
        assertThat(run("--version")).isZero();
        assertThat(out.toString()).startsWith("holdfast ").contains("JVM: ");
    }

    @Test
    void noSubcommandIsAUsageError() {
        assertThat(run()).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("Usage: holdfast");
    }

    @Test
    void unknownCommandIsOneLineAndExit64() {
        assertThat(run("frobnicate")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .containsExactly("holdfast: unknown command 'frobnicate' (see 'holdfast --help')");
    }

    @Test
    void badDurationIsOneLineWithoutStackTrace() {
        assertThat(run("lock", "jobs/a", "--wait", "3x", "--", "true")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .startsWith("holdfast lock: ")
                .contains("'3x'");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void lockWithoutCommandIsAUsageError() {
        assertThat(run("lock", "jobs/a")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("COMMAND");
    }

    @Test
    void unknownOptionIsAUsageError() {
        assertThat(run("lock", "--frob", "jobs/a", "--", "true")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines()).singleElement().asString().contains("--frob");
    }

    @Test
    void emptyBackendIsAUsageError() {
        assertThat(run("lock", "jobs/a", "--backend", " ", "--", "true")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines()).singleElement().asString().contains("--backend is empty");
    }

    @Test
    void serverWithAPeerListWithoutItselfIsAUsageErrorOfOneLine() {
        assertThat(run("server", "--id", "n4", "--peers", "n1=127.0.0.1:4654,n2=127.0.0.1:5654"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .startsWith("holdfast server: the peer list")
                .contains("does not include this node's id 'n4'");
    }

    @Test
    void verifyListsItsScenariosAndBugsAndRefusesUnknownOnesInOneLine() {
        assertThat(run("verify", "--list-bugs")).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).contains("release-by-anyone").contains("exposed by baseline");
        assertThat(run("verify", "--scenario", "nope")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .isEqualTo("holdfast verify: unknown scenario 'nope' (see --list-scenarios)");
    }

    @Test
    void serverOnAPortInUseSaysSoInOneLineAndFails(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0)) {
            int port = taken.getLocalPort();
            assertThat(run("server", "--data-dir", dir.toString(), "--raft-port", String.valueOf(port)))
                    .isEqualTo(ExitCodes.SERVER_START_FAILED);
            assertThat(err.toString().lines())
                    .singleElement()
                    .asString()
                    .startsWith("holdfast server: the Raft port 127.0.0.1:" + port)
                    .contains("in use");
        }
    }

    @Test
    void serverWithALogDamagedInTheMiddleSaysSoInOneLineWithoutAStackTraceAndFails(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        int raftPort = freePort();
        int clientPort = freePort();
        java.nio.file.Path data = dir.resolve("data");
        try (io.holdfast.server.HoldfastServer node = io.holdfast.server.HoldfastServer.start(
                io.holdfast.server.config.ServerConfig.single(data, "127.0.0.1", clientPort, raftPort, -1))) {
            org.awaitility.Awaitility.await()
                    .atMost(java.time.Duration.ofSeconds(20))
                    .until(node::isLeader);
        }
        java.nio.file.Path segment;
        try (var files = java.nio.file.Files.walk(data)) {
            segment = files.filter(p -> p.getFileName().toString().startsWith("log_inprogress_"))
                    .findFirst()
                    .orElseThrow();
        }
        // A flipped bit inside the first entry (after the 8-byte header and its length prefix),
        // with the node's later entries after it.
        try (var f = new java.io.RandomAccessFile(segment.toFile(), "rw")) {
            assertThat(f.length()).isGreaterThan(40);
            f.seek(12);
            int b = f.read();
            f.seek(12);
            f.write(b ^ 0x5A);
        }
        java.io.PrintStream stdout = System.out;
        java.io.PrintStream stderr = System.err;
        java.io.ByteArrayOutputStream console = new java.io.ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new java.io.PrintStream(console, true));
            System.setErr(new java.io.PrintStream(console, true));
            code = run(
                    "server",
                    "--data-dir",
                    data.toString(),
                    "--raft-port",
                    String.valueOf(raftPort),
                    "--client-port",
                    String.valueOf(clientPort),
                    "--http-port",
                    "-1");
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
        // Nothing else on the console: no stack trace from Ratis or the node.
        assertThat(console.toString()).doesNotContain("\tat ").doesNotContain("Exception");
        assertThat(code).isEqualTo(ExitCodes.SERVER_START_FAILED).isEqualTo(71);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .startsWith("holdfast server: the Raft log is damaged and was left as it is: " + segment)
                .contains("at byte 8");
    }

    private static int freePort() throws java.io.IOException {
        return io.holdfast.testkit.FreePorts.next(); // below the kernel's range for automatic ports
    }

    @Test
    void commandsThatTalkToABackendReadItFromTheEnvironment() {
        for (String[] args : new String[][] {{"locks"}, {"lock", "x", "--", "true"}}) {
            err.getBuffer().setLength(0);
            assertThat(run(Map.of(Backends.ENV, "nosuch://x"), args))
                    .as(String.join(" ", args))
                    .isEqualTo(ExitCodes.USAGE);
            assertThat(err.toString()).as(String.join(" ", args)).contains("nosuch://x");
        }
    }

    @Test
    void backendComesFromFlagThenEnvironmentThenDefault() {
        assertThat(Backends.resolve("mem:", Map.of(Backends.ENV, "redis://x"))).isEqualTo("mem:");
        assertThat(Backends.resolve(null, Map.of(Backends.ENV, "redis://x"))).isEqualTo("redis://x");
        assertThat(Backends.resolve(null, Map.of(Backends.ENV, " "))).isEqualTo(Backends.DEFAULT);
        assertThat(Backends.resolve(null, Map.of())).isEqualTo("holdfast://127.0.0.1:4653");
    }
}
