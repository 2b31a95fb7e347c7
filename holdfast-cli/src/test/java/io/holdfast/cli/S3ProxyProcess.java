package io.holdfast.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A real S3-compatible server for the tests: S3Proxy (from Maven Central, copied into {@code
 * target/s3proxy/} by the build) in a separate JVM on a free loopback port, storing buckets as
 * directories under {@code dir/store} (jclouds' filesystem provider) and checking AWS signatures
 * (v2 or v4) against one identity and credential.
 */
final class S3ProxyProcess implements AutoCloseable {
    static final String IDENTITY = "holdfast-test-identity";
    static final String CREDENTIAL = "holdfast-test-secret-0123456789";

    private final Process process;
    private final Path store;
    private final Path log;
    private final int port;

    private S3ProxyProcess(Process process, Path store, Path log, int port) {
        this.process = process;
        this.store = store;
        this.log = log;
        this.port = port;
    }

    /** Starts S3Proxy with the empty buckets {@code buckets}, and waits until it serves. */
    static S3ProxyProcess start(Path dir, String... buckets) throws IOException {
        Path jar = Path.of("target", "s3proxy", "s3proxy.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: the build copies it (generate-test-resources)");
        }
        Path store = Files.createDirectories(dir.resolve("store"));
        for (String bucket : buckets) {
            Files.createDirectories(store.resolve(bucket));
        }
        int port = io.holdfast.testkit.FreePorts.next();
        Path properties = dir.resolve("s3proxy.conf");
        Files.writeString(
                properties,
                String.join(
                        "\n",
                        "s3proxy.endpoint=http://127.0.0.1:" + port,
                        "s3proxy.authorization=aws-v2-or-v4",
                        "s3proxy.identity=" + IDENTITY,
                        "s3proxy.credential=" + CREDENTIAL,
                        "jclouds.provider=filesystem",
                        "jclouds.filesystem.basedir=" + store,
                        ""));
        Path log = dir.resolve("s3proxy.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(
                        List.of(java, "-Xmx256m", "-jar", jar.toString(), "--properties", properties.toString()))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        S3ProxyProcess proxy = new S3ProxyProcess(process, store, log, port);
        // Should the test JVM end without closing it (a test run cut short), the server goes too.
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly, "s3proxy-stop"));
        try {
            // Until its port takes connections; an exit on the way fails at once with its log.
            org.awaitility.Awaitility.await()
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        if (!process.isAlive()) {
                            throw new IllegalStateException(
                                    "S3Proxy exited with " + process.exitValue() + ": " + Files.readString(log));
                        }
                        try (Socket s = new Socket()) {
                            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                            return true;
                        } catch (IOException e) {
                            return false;
                        }
                    });
        } catch (RuntimeException e) {
            proxy.close();
            throw e;
        }
        return proxy;
    }

    /** The server's address, for {@code --s3-endpoint}. */
    URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** The environment that gives the CLI the server's credentials. */
    static Map<String, String> credentials() {
        return Map.of("AWS_ACCESS_KEY_ID", IDENTITY, "AWS_SECRET_ACCESS_KEY", CREDENTIAL);
    }

    /** Where the object {@code key} of {@code bucket} lies on disk (jclouds' filesystem layout). */
    Path object(String bucket, String key) {
        return store.resolve(bucket).resolve(key);
    }

    /** What the server logged, for a failure's message. */
    String log() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
