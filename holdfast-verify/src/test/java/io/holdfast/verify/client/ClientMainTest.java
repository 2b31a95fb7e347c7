package io.holdfast.verify.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.verify.history.History;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import java.io.BufferedReader;
import java.io.OutputStream;
import java.io.PipedReader;
import java.io.PipedWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientMainTest {
    @TempDir
    Path dir;

    private final String uri = "mem:main-" + UUID.randomUUID().toString().substring(0, 8);
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();

    @Test
    void theStdinProtocolDrivesProbesAndTheWorkload() throws Exception {
        Path file = dir.resolve("c1.jsonl");
        PipedWriter pipe = new PipedWriter();
        BufferedReader in = new BufferedReader(new PipedReader(pipe, 1 << 16));
        PrintWriter commands = new PrintWriter(pipe, true);
        ClientOptions options = ClientOptions.builder()
                .clientName("c1")
                .sessionTtl(Duration.ofSeconds(3))
                .requestTimeout(Duration.ofSeconds(2))
                .build();
        MemoryStore fenced = new MemoryStore("fenced", true);
        CompletableFuture<Integer> exit;
        try (History.Writer w = new History.Writer(file)) {
            ClientMain.Setup setup = new ClientMain.Setup(
                    "c1",
                    () -> LockClient.open(uri, options),
                    fenced,
                    new MemoryStore("unfenced", false),
                    5,
                    Duration.ofSeconds(3),
                    Duration.ofMillis(2500),
                    null,
                    false,
                    false,
                    List.of(),
                    false,
                    null,
                    () -> LockClient.open(uri, options));
            ClientMain main = new ClientMain(setup, new Recorder("c1", w));
            exit = CompletableFuture.supplyAsync(() -> {
                try {
                    return main.serve(in, new PrintStream(new Lines(answers), true, StandardCharsets.UTF_8));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            String ready = next();
            assertThat(ready).startsWith("READY ");
            String session = ready.substring("READY ".length());

            commands.println("final-acquire lock-0 LOCK 500");
            String granted = next();
            assertThat(granted).matches("OK \\d+");
            commands.println("final-acquire lock-0 lock 0");
            assertThat(next()).isEqualTo("FAIL TIMEOUT");
            commands.println("final-release lock-0");
            assertThat(next()).isEqualTo(granted);
            commands.println("final-release lock-0");
            assertThat(next()).isEqualTo("FAIL NOT_HELD");
            commands.println("final-get reg-0");
            assertThat(next()).isEqualTo("OK 0 0");

            // contend: a try in the background, held for a while, then released
            commands.println("final-acquire lock-9 LOCK 500");
            String held = next();
            assertThat(held).matches("OK \\d+");
            commands.println("contend lock-9 0");
            assertThat(next()).isEqualTo("CONTENDED FAIL TIMEOUT");
            commands.println("final-release lock-9");
            assertThat(next()).isEqualTo(held);
            commands.println("contend lock-9 300");
            assertThat(next()).matches("CONTENDED OK \\d+");
            commands.println("final-acquire lock-9 LOCK 0");
            assertThat(next()).as("held by the contend").isEqualTo("FAIL TIMEOUT");
            commands.println("final-acquire lock-9 LOCK 3000");
            assertThat(next()).as("released after its hold").matches("OK \\d+");
            commands.println("final-release lock-9");
            assertThat(next()).startsWith("OK ");
            commands.println("session");
            assertThat(next()).isEqualTo("SESSION " + session);
            commands.println("final-intrude lock-0");
            assertThat(next()).isEqualTo("ERROR not an intruder");
            commands.println("frobnicate");
            assertThat(next()).startsWith("ERROR unknown command");
            commands.println("final-acquire lock-0");
            assertThat(next()).startsWith("ERROR ").contains("usage");

            commands.println("start");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (workloadOps(file) < 20 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            commands.println("stop");
            assertThat(next()).isEqualTo("STOPPED");
            int afterStop = History.read(file).size();

            commands.println("final-acquire sem-0 SEMAPHORE 200");
            assertThat(next()).matches("OK \\d+");
            commands.println(); // blank lines are ignored
            pipe.close(); // end of input: close
            assertThat(next()).isEqualTo("CLOSED");
            assertThat(exit.get(10, TimeUnit.SECONDS)).isZero();
            assertThat(answers).isEmpty();
            assertThat(History.read(file).size())
                    .as("nothing after stop but the probe: its acquire, its release, and its lease asked after"
                            + " the grant and before the release")
                    .isEqualTo(afterStop + 6);
        }
        List<Op> ops = new ArrayList<>();
        for (Record r : History.read(file)) {
            ops.add((Op) r);
        }
        assertThat(WellFormed.ops(ops)).isEmpty();
        assertThat(workloadOps(file)).isGreaterThanOrEqualTo(20);
        List<String> contends = ops.stream()
                .filter(op -> "lock-9".equals(op.key()) && Workload.PHASE.equals(op.phase()))
                .map(op -> op.f() + " " + op.type())
                .toList();
        // its lease asked right after the grant, every 200 ms of the hold, and right before the release
        assertThat(String.join(", ", contends))
                .as("the contends, recorded as workload operations")
                .matches("ACQUIRE INVOKE, ACQUIRE FAIL, ACQUIRE INVOKE, ACQUIRE OK, (VALID NOTICE, ){2,}"
                        + "RELEASE INVOKE, RELEASE OK");
        assertThat(ops.stream()
                        .filter(op -> ClientMain.FINAL.equals(op.phase()))
                        .filter(op -> op.f() != Op.Fn.VALID))
                .extracting(op -> op.f() + " " + op.type())
                .containsExactly(
                        "ACQUIRE INVOKE", "ACQUIRE OK", // the grant
                        "ACQUIRE INVOKE", "ACQUIRE FAIL", // the busy try
                        "RELEASE INVOKE", "RELEASE OK",
                        "REG_GET INVOKE", "REG_GET OK",
                        "ACQUIRE INVOKE", "ACQUIRE OK", // lock-9, which the first contend finds held
                        "RELEASE INVOKE", "RELEASE OK",
                        "ACQUIRE INVOKE", "ACQUIRE FAIL", // held by the second contend
                        "ACQUIRE INVOKE", "ACQUIRE OK", // after the contend's hold
                        "RELEASE INVOKE", "RELEASE OK",
                        "ACQUIRE INVOKE", "ACQUIRE OK", // the semaphore probe
                        "RELEASE INVOKE", "RELEASE OK"); // given back by close
    }

    /**
     * The final phase's attack: the intruder releases what it sees a client hold, recorded in the
     * final phase, and a correct service refuses it.
     */
    @Test
    void anIntruderAttacksAHeldLockWhenTold() throws Exception {
        Path file = dir.resolve("x1.jsonl");
        PipedWriter pipe = new PipedWriter();
        BufferedReader in = new BufferedReader(new PipedReader(pipe, 1 << 16));
        PrintWriter commands = new PrintWriter(pipe, true);
        ClientOptions options = ClientOptions.builder()
                .clientName("x1")
                .sessionTtl(Duration.ofSeconds(3))
                .build();
        Duration bound = Duration.ofMillis(2500);
        try (LockClient victim = LockClient.open(uri, options);
                History.Writer w = new History.Writer(file)) {
            io.holdfast.Lease lease = victim.lock("lock-0").acquire(Duration.ofSeconds(1));
            ClientMain.Setup setup = new ClientMain.Setup(
                    "x1",
                    () -> LockClient.open(uri, options),
                    new MemoryStore("fenced", true),
                    new MemoryStore("unfenced", false),
                    5,
                    Duration.ofSeconds(3),
                    bound,
                    () -> Intruder.serviceFor(uri, bound),
                    false,
                    false,
                    List.of(),
                    false,
                    null,
                    () -> LockClient.open(uri, options));
            ClientMain main = new ClientMain(setup, new Recorder("x1", w));
            CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> {
                try {
                    return main.serve(in, new PrintStream(new Lines(answers), true, StandardCharsets.UTF_8));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(next()).startsWith("READY ");
            commands.println("final-intrude lock-1");
            assertThat(next()).as("nobody holds it: nothing sent").isEqualTo("NONE");
            commands.println("final-intrude lock-0");
            assertThat(next()).isEqualTo("FAIL NOT_OWNER");
            assertThat(lease.isValid()).isTrue();
            pipe.close();
            assertThat(next()).isEqualTo("CLOSED");
            assertThat(exit.get(10, TimeUnit.SECONDS)).isZero();
            assertThat(History.read(file))
                    .map(r -> (Op) r)
                    .extracting(op -> op.phase() + " " + op.f() + " " + op.key() + " " + op.type())
                    .containsExactly("final FOREIGN_RELEASE lock-0 INVOKE", "final FOREIGN_RELEASE lock-0 FAIL");
            lease.release();
        }
    }

    private String next() throws InterruptedException {
        String line = answers.poll(15, TimeUnit.SECONDS);
        assertThat(line).as("an answer").isNotNull();
        return line;
    }

    private static long workloadOps(Path file) throws java.io.IOException {
        return History.read(file).stream()
                .filter(r -> r instanceof Op op && Workload.PHASE.equals(op.phase()) && op.isCompletion())
                .count();
    }

    /** Collects printed lines. */
    private static final class Lines extends OutputStream {
        private final BlockingQueue<String> out;
        private final StringBuilder line = new StringBuilder();

        Lines(BlockingQueue<String> out) {
            this.out = out;
        }

        @Override
        public synchronized void write(int b) {
            if (b == '\n') {
                out.add(line.toString());
                line.setLength(0);
            } else if (b != '\r') {
                line.append((char) b);
            }
        }
    }
}
