package io.holdfast.verify.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.verify.history.History;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.StoreWrite;
import io.holdfast.verify.net.LinkProxy;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreServerTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @TempDir
    Path dir;

    /**
     * A client for writes that must succeed: a generous read timeout, since these tests check what
     * the store answers, not how fast. The default 5 s timed out on a first write in a CI run on
     * Temurin 25 beside two scenario runs and two planted-bug runs (the machine's 2 cores saturated).
     */
    private static TcpProtectedStore patient(int port) {
        return new TcpProtectedStore("127.0.0.1", port, Duration.ofSeconds(30), Duration.ofSeconds(60));
    }

    @Test
    void theFencedStoreRefusesStaleTokensAndLogsEveryWriteBeforeAnswering() throws Exception {
        Path log = dir.resolve("fenced.jsonl");
        try (StoreServer server = StoreServer.start(StoreServer.Mode.FENCED, LOOPBACK, 0, log);
                TcpProtectedStore store = patient(server.port())) {
            assertThat(store.write("lock-0", 5, "c1", 1, StoreWrite.ENTER)).isTrue();
            // logged before the answer came: the line is there as soon as write returns
            assertThat(History.read(log)).hasSize(1);
            assertThat(store.write("lock-0", 3, "c2", 4, StoreWrite.ENTER)).isFalse();
            assertThat(store.write("lock-0", 5, "c1", 1, StoreWrite.EXIT)).isTrue(); // equal is fine
            assertThat(store.write("lock-1", 1, "c2", 5, StoreWrite.ENTER)).isTrue(); // keys are apart
            assertThat(store.write("lock-0", 7, "c3", 2, StoreWrite.ENTER)).isTrue();
            assertThat(store.write("lock-0", 5, "c1", 1, StoreWrite.EXIT)).isFalse();
        }
        List<StoreWrite> writes = writes(log);
        assertThat(writes).extracting(StoreWrite::store).containsOnly(StoreWrite.FENCED);
        assertThat(writes).extracting(StoreWrite::accepted).containsExactly(true, false, true, true, true, false);
        assertThat(writes).extracting(StoreWrite::highest).containsExactly(0L, 5L, 5L, 0L, 5L, 7L);
        assertThat(writes.get(1))
                .extracting(StoreWrite::key, StoreWrite::token, StoreWrite::process, StoreWrite::seq, StoreWrite::phase)
                .containsExactly("lock-0", 3L, "c2", 4L, StoreWrite.ENTER);
        assertThat(writes).extracting(StoreWrite::time).isSorted();
    }

    @Test
    void theUnfencedStoreAcceptsEverythingButTracksTheHighestToken() throws Exception {
        Path log = dir.resolve("unfenced.jsonl");
        try (StoreServer server = StoreServer.start(StoreServer.Mode.UNFENCED, LOOPBACK, 0, log);
                TcpProtectedStore store = patient(server.port())) {
            assertThat(store.write("lock-0", 5, "c1", 1, StoreWrite.ENTER)).isTrue();
            assertThat(store.write("lock-0", 3, "c2", 2, StoreWrite.ENTER)).isTrue();
            assertThat(store.write("lock-0", 4, "c2", 2, StoreWrite.EXIT)).isTrue();
        }
        List<StoreWrite> writes = writes(log);
        assertThat(writes).extracting(StoreWrite::store).containsOnly(StoreWrite.UNFENCED);
        assertThat(writes).extracting(StoreWrite::accepted).containsOnly(true);
        assertThat(writes).extracting(StoreWrite::highest).containsExactly(0L, 5L, 5L);
    }

    @Test
    void badLinesGetAnErrorAndTheConnectionStaysUsable() throws Exception {
        Path log = dir.resolve("fenced.jsonl");
        try (StoreServer server = StoreServer.start(StoreServer.Mode.FENCED, LOOPBACK, 0, log);
                Socket s = new Socket(LOOPBACK, server.port())) {
            s.setSoTimeout(60_000); // what it answers, not how fast (see patient)
            OutputStream out = s.getOutputStream();
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            List<String> bad = List.of(
                    "",
                    "hello",
                    "W lock-0 5 c1 1",
                    "W lock-0 five c1 1 enter",
                    "W lock-0 5 c1 x enter",
                    "W lock-0 5 c1 1 middle",
                    "W lock-0 99999999999999999999 c1 1 enter",
                    "W lock-0 5 c1 1 enter extra",
                    "x".repeat(StoreServer.MAX_LINE + 10));
            for (String line : bad) {
                out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                assertThat(in.readLine())
                        .as("reply to %s", line.length() > 40 ? "a long line" : line)
                        .startsWith("ERR ");
            }
            out.write("W lock-0 5 c1 1 enter\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(in.readLine()).isEqualTo("OK 0");
        }
        assertThat(writes(log)).hasSize(1); // errors are not logged
    }

    @Test
    void theClientRefusesWhatTheProtocolCannotCarryAndErrorsAreIoExceptions() throws Exception {
        try (StoreServer server = StoreServer.start(StoreServer.Mode.FENCED, LOOPBACK, 0, dir.resolve("f.jsonl"));
                TcpProtectedStore store = patient(server.port())) {
            assertThatThrownBy(() -> store.write("lock 0", 1, "c1", 1, StoreWrite.ENTER))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.write("lock-0", 1, "", 1, StoreWrite.ENTER))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.write("lock-0", 1, "c1", 1, "later"))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("ERR bad phase");
            assertThat(store.write("lock-0", 1, "c1", 1, StoreWrite.ENTER)).isTrue(); // same connection
        }
    }

    @Test
    void theClientFailsWithAnIoExceptionAndReconnectsOnTheNextWrite() throws Exception {
        try (StoreServer server = StoreServer.start(StoreServer.Mode.FENCED, LOOPBACK, 0, dir.resolve("f.jsonl"));
                LinkProxy proxy = new LinkProxy("store", LOOPBACK, 0, "127.0.0.1", server.port());
                // The read timeout bounds the writes that must succeed too: 300 ms timed out on one
                // through the proxy in a CI run with the planted bugs and a build beside it.
                TcpProtectedStore store = new TcpProtectedStore(
                        "127.0.0.1", proxy.port(), Duration.ofSeconds(2), Duration.ofSeconds(2))) {
            assertThat(store.write("lock-0", 1, "c1", 1, StoreWrite.ENTER)).isTrue();
            proxy.blackhole();
            assertThatThrownBy(() -> store.write("lock-0", 2, "c1", 2, StoreWrite.ENTER))
                    .isInstanceOf(IOException.class); // read timeout
            proxy.pass();
            assertThat(store.write("lock-0", 3, "c1", 3, StoreWrite.ENTER)).isTrue();
            assertThat(proxy.connections()).isEqualTo(2);
            proxy.cut();
            boolean failed = false;
            try {
                store.write("lock-0", 4, "c1", 4, StoreWrite.ENTER);
            } catch (IOException e) {
                failed = true;
            }
            assertThat(failed).isTrue();
            assertThat(store.write("lock-0", 5, "c1", 5, StoreWrite.ENTER)).isTrue();
            assertThat(proxy.connections()).isEqualTo(3);
        }
        try (TcpProtectedStore nowhere = new TcpProtectedStore("127.0.0.1", 1)) {
            assertThatThrownBy(() -> nowhere.write("lock-0", 1, "c1", 1, StoreWrite.ENTER))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("cannot reach store");
        }
    }

    @Test
    void mainInAChildJvmPrintsReadyAndServes() throws Exception {
        Path log = dir.resolve("child.jsonl");
        List<String> cmd = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                StoreServer.class.getName(),
                "--mode",
                "unfenced",
                "--port",
                "0",
                "--log",
                log.toString());
        Process p = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try {
            BufferedReader out =
                    new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
            String ready = out.readLine();
            assertThat(ready).matches("READY [1-9][0-9]*");
            int port = Integer.parseInt(ready.substring("READY ".length()));
            try (TcpProtectedStore store = patient(port)) {
                assertThat(store.write("lock-2", 9, "c4", 3, StoreWrite.EXIT)).isTrue();
            }
        } finally {
            p.destroyForcibly();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(writes(log)).singleElement().satisfies(w -> {
            assertThat(w.store()).isEqualTo(StoreWrite.UNFENCED);
            assertThat(w.token()).isEqualTo(9);
        });

        Process bad =
                new ProcessBuilder(cmd.subList(0, 6)).redirectErrorStream(true).start();
        String text = new String(bad.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(bad.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(bad.exitValue()).isEqualTo(2);
        assertThat(text).contains("usage:").doesNotContain("READY");
    }

    private static List<StoreWrite> writes(Path log) throws IOException {
        assertThat(Files.exists(log)).isTrue();
        List<StoreWrite> out = new ArrayList<>();
        for (Record r : History.read(log)) {
            out.add((StoreWrite) r);
        }
        return out;
    }
}
