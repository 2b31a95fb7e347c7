package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.testkit.FreePorts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution as an operator gets it: {@code holdfast-VERSION.tar.gz} unpacked into an empty
 * directory runs a node and a {@code holdfast lock} with nothing but a JDK (no source tree, no
 * Maven, an environment with only {@code PATH} and {@code JAVA_HOME}).
 */
class DistributionTest {
    /** Set by this module's pom: holdfast-dist/target/holdfast-VERSION.tar.gz. */
    private static final Path TARBALL = Path.of(System.getProperty("holdfast.dist", "holdfast.dist-is-not-set"));

    @TempDir
    Path dir;

    private Process server;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.destroy(); // SIGTERM: the node stops cleanly
            if (!server.waitFor(20, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    @Test
    void anUnpackedDistributionRunsANodeAndALockWithNothingButAJdk() throws Exception {
        assertThat(TARBALL).as("built by holdfast-dist").isRegularFile();
        Path installed = dir.resolve("opt");
        Files.createDirectories(installed);
        Process untar = new ProcessBuilder(
                        "tar", "xzf", TARBALL.toAbsolutePath().toString(), "-C", installed.toString())
                .inheritIO()
                .start();
        assertThat(untar.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(untar.exitValue()).isZero();
        Path home;
        try (var entries = Files.list(installed)) {
            home = entries.collect(java.util.stream.Collectors.toList()).get(0);
        }
        for (String file : List.of(
                "bin/holdfast",
                "lib/holdfast.jar",
                "LICENSE",
                "README.md",
                "conf/holdfast.properties.example",
                "systemd/holdfast@.service",
                "monitoring/holdfast-dashboard.json",
                "monitoring/holdfast-alerts.yml")) {
            assertThat(home.resolve(file)).as(file).isRegularFile();
        }
        assertThat(Files.isExecutable(home.resolve("bin/holdfast"))).isTrue();

        int client = FreePorts.next();
        int raft = FreePorts.next();
        int http = FreePorts.next();
        Path log = dir.resolve("server.log");
        Path classes = dir.resolve("server-classes.log");
        // The node's own record of where its classes came from (the training run's is turned off by the launcher).
        String javaOpts = "-XX:+UseSerialGC -Xlog:class+load=info:file=" + classes;

        // A training that fails: server-cache says why in one line, exits 70, and leaves nothing of its making.
        Ran failed = serverCache(home, javaOpts, "soon");
        assertThat(failed.exit()).as(failed.output()).isEqualTo(70);
        assertThat(failed.output().lines())
                .as("one line, naming the training's own reason")
                .singleElement()
                .asString()
                .startsWith("holdfast: the server cache could not be made in " + home.resolve("lib/cds") + ": ")
                .contains("'soon' is not a duration");
        try (var listed = Files.list(home.resolve("lib/cds"))) {
            assertThat(listed.map(p -> p.getFileName().toString()))
                    .as("nothing left of a failed making but the lock its makers share")
                    .containsExactly("holdfast-server.lock");
        }

        // The server's cache, made ahead of the first start as an install or an image build does (a short
        // training: this test checks that the classes are mapped, not how warm they are).
        Ran cache = serverCache(home, javaOpts, "1s");
        assertThat(cache.exit()).as(cache.output()).isZero();
        assertThat(cache.output())
                .as("the options it adds")
                .startsWith(Runtime.version().feature() >= 25 ? "-XX:AOTCache=" : "-XX:SharedArchiveFile=");

        ProcessBuilder node = onlyAJdk(new ProcessBuilder(
                home.resolve("bin/holdfast").toString(),
                "server",
                "--data-dir",
                dir.resolve("data").toString(),
                "--client-port",
                String.valueOf(client),
                "--raft-port",
                String.valueOf(raft),
                "--http-port",
                String.valueOf(http)));
        node.environment().put("HOLDFAST_JAVA_OPTS", javaOpts);
        server = node.directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        HttpClient web = HttpClient.newHttpClient();
        await("the node from the tarball is ready (its log: " + log + ")")
                .atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(200))
                .ignoreExceptions()
                .until(() -> web.send(
                                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + "/ready"))
                                                .build(),
                                        HttpResponse.BodyHandlers.discarding())
                                .statusCode()
                        == 200);

        // The node started with the server's cache: its classes, Ratis's among them, were mapped, not loaded
        // from the jar.
        List<String> serverCaches;
        try (var listed = Files.list(home.resolve("lib/cds"))) {
            serverCaches = listed.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("holdfast-server"))
                    .sorted()
                    .collect(java.util.stream.Collectors.toList());
        }
        assertThat(serverCaches)
                .as("the server's cache, made once, the lock its makers share, and nothing else left of its making")
                .hasSize(2)
                .contains("holdfast-server.lock")
                .anyMatch(n -> n.matches(
                        Runtime.version().feature() >= 25
                                ? "holdfast-server-[0-9]+-[0-9]+-[0-9]+\\.aot"
                                : "holdfast-server-[0-9]+-[0-9]+-[0-9]+-static\\.jsa"));
        List<String> loaded = Files.readAllLines(classes);
        for (String name :
                List.of("io.holdfast.server.HoldfastServer", "org.apache.ratis.server.impl.RaftServerImpl")) {
            assertThat(loaded.stream().filter(l -> l.contains(" " + name + " ")))
                    .as("how the node loaded " + name)
                    .singleElement()
                    .asString()
                    .contains("source: shared objects file");
        }

        Process lock = onlyAJdk(new ProcessBuilder(
                        home.resolve("bin/holdfast").toString(),
                        "lock",
                        "dist/check",
                        "--backend",
                        "holdfast://127.0.0.1:" + client,
                        "--",
                        "sh",
                        "-c",
                        "echo \"held with token $HOLDFAST_FENCING_TOKEN\""))
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(lock.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(lock.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(lock.exitValue()).as(out).isZero();
        assertThat(out.lines())
                .as("the command's output, and no JVM note about the class archive")
                .singleElement()
                .asString()
                .matches("held with token [1-9][0-9]*");
        List<Path> archives;
        try (var listed = Files.list(home.resolve("lib/cds"))) {
            archives = listed.filter(p -> !p.getFileName().toString().startsWith("holdfast-server"))
                    .collect(java.util.stream.Collectors.toList());
        }
        assertThat(archives)
                .as("the short command's class-data-sharing archive, made once, and nothing else left of its making")
                .singleElement()
                .extracting(p -> p.getFileName().toString())
                .asString()
                .matches("holdfast-[0-9]+-[0-9]+-static\\.jsa");
        Path archive = archives.get(0);
        // The archive is static, so it holds picocli's classes (compiled for Java 5, which JDK 17's
        // dynamic archive leaves out): the JVM maps them instead of parsing and verifying them.
        Process shared = onlyAJdk(new ProcessBuilder(
                        System.getProperty("java.home") + "/bin/java",
                        "-XX:+UseSerialGC",
                        "-XX:TieredStopAtLevel=1",
                        "-XX:CICompilerCount=1",
                        "-XX:-UsePerfData",
                        "-XX:SharedArchiveFile=" + archive,
                        "-Xshare:on",
                        "-Xlog:class+load=info:stdout",
                        "-jar",
                        home.resolve("lib/holdfast.jar").toString(),
                        "--version"))
                .redirectErrorStream(true)
                .start();
        String loads = new String(shared.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(shared.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(shared.exitValue()).as(loads).isZero();
        assertThat(loads.lines().filter(l -> l.contains(" picocli.CommandLine ")))
                .as("how picocli's main class was loaded")
                .singleElement()
                .asString()
                .contains("source: shared objects file");
    }

    @Test
    void withoutAJavaTheCommandSaysSoInOneLine() throws Exception {
        assertThat(TARBALL).isRegularFile();
        Process untar = new ProcessBuilder(
                        "tar",
                        "xzf",
                        TARBALL.toAbsolutePath().toString(),
                        "-C",
                        dir.toString(),
                        "--wildcards",
                        "*/bin/holdfast")
                .inheritIO()
                .start();
        assertThat(untar.waitFor(60, TimeUnit.SECONDS)).isTrue();
        Path bin;
        try (var found = Files.find(dir, 3, (p, a) -> p.endsWith("bin/holdfast"))) {
            bin = found.findFirst().orElseThrow();
        }
        ProcessBuilder pb = new ProcessBuilder("/bin/bash", bin.toString(), "--version");
        pb.environment().clear();
        pb.environment().put("PATH", "/nonexistent");
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(127);
        assertThat(out.lines()).singleElement().asString().startsWith("holdfast: no Java found");
    }

    /** What a command printed (stdout and stderr, stripped) and its exit code. */
    private record Ran(int exit, String output) {}

    /** {@code holdfast server-cache} of the unpacked {@code home}, training for {@code training}. */
    private Ran serverCache(Path home, String javaOpts, String training) throws Exception {
        ProcessBuilder pb =
                onlyAJdk(new ProcessBuilder(home.resolve("bin/holdfast").toString(), "server-cache"));
        pb.environment().put("HOLDFAST_JAVA_OPTS", javaOpts);
        pb.environment().put("HOLDFAST_SERVER_TRAINING", training);
        Process p = pb.directory(dir.toFile()).redirectErrorStream(true).start();
        assertThat(p.waitFor(180, TimeUnit.SECONDS))
                .as("holdfast server-cache ends")
                .isTrue();
        return new Ran(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip());
    }

    /** The environment of a fresh machine with a JDK: PATH (the JDK's bin and the system's) and JAVA_HOME. */
    private static ProcessBuilder onlyAJdk(ProcessBuilder pb) {
        String javaHome = System.getProperty("java.home");
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", javaHome + "/bin:/usr/bin:/bin");
        env.put("JAVA_HOME", javaHome);
        env.put("HOME", System.getProperty("java.io.tmpdir"));
        return pb;
    }
}
