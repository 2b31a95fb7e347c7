package io.holdfast.floors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ErrorCode;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.server.raft.EntryCodec;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every engine's floor measures real consensus writes: each write counted was committed and applied by the
 * leader's state machine, answered with its own bytes, with fsync before acknowledging.
 */
class EngineContractTest {
    @ParameterizedTest(name = "{0}, {1} member(s)")
    @CsvSource({
        "ratis-grpc, 1",
        "ratis-grpc, 3",
        "ratis-table, 1",
        "ratis-table, 3",
        "ratis-netty, 3",
        "zookeeper, 1",
        "zookeeper, 3"
    })
    void everyWriteCountedWasAppliedAndDurable(String name, int nodes, @TempDir Path dir) throws Exception {
        try (Engine engine = Engines.kind(name).create()) {
            engine.start(nodes, dir, true, Map.of());
            assertThat(engine.durable()).as("fsync before acknowledging").isTrue();
            Floor.Result r = Floor.measureAndCheck(engine, 2, new byte[64], Duration.ofMillis(400));
            assertThat(r.cpuByGroup()).containsKey("submitting threads");
        }
    }

    @Test
    void aPortTakenBeforeRatisBindsItIsAStartOnFreshPortsNotTheEndOfTheJvm(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0)) {
            AtomicInteger asked = new AtomicInteger();
            IntSupplier ports = () -> asked.getAndIncrement() == 0 ? taken.getLocalPort() : Ports.free();
            try (Engine engine = new RatisEngine("ratis-grpc", ports)) {
                engine.start(1, dir, true, Map.of());
                assertThat(asked.get())
                        .as("ports asked: a first start, then a second")
                        .isEqualTo(4);
                assertThat(engine.write(new byte[] {7}).get(10, TimeUnit.SECONDS))
                        .containsExactly(7);
            }
        }
    }

    @Test
    void theTableFloorCountsOnlyWhatTheTableServed() {
        TableWrites writes = new TableWrites();
        TableWrites.Write open = writes.next();
        open.check(EntryCodec.encodeReplies(List.of(new Reply.Ok(0))));
        TableWrites.Write acquire = writes.next();
        assertThat(acquire.command()).isInstanceOf(Command.Acquire.class);
        assertThatThrownBy(() -> acquire.check(EntryCodec.encodeReplies(
                        List.of(Reply.Failed.of(ErrorCode.TIMEOUT, "held by another session")))))
                .hasMessageStartingWith("the table answered Failed[code=TIMEOUT")
                .hasMessageEndingWith("to Acquire of " + ((Command.Acquire) acquire.command()).name());
        acquire.check(EntryCodec.encodeReplies(List.of(new Reply.Granted(7))));
        assertThat(((Command.Release) writes.next().command()).token()).isEqualTo(7);
    }

    @Test
    void aWrongAnswerEndsTheMeasurementInsteadOfCountingIt() {
        assertThatThrownBy(() -> Floor.measure(new Liar(true, 0), 1, new byte[64], Duration.ofMillis(50)))
                .hasMessageContaining("not the entry written");
    }

    @Test
    void writesAnsweredButNotAppliedAreNotAFloor() {
        assertThatThrownBy(() -> Floor.measureAndCheck(new Liar(false, 0), 1, new byte[64], Duration.ofMillis(50)))
                .hasMessageMatching("liar: \\d+ writes counted, \\d+ timed, 0 applied by the leader's state machine");
    }

    /** Answers at once without consensus: with a wrong answer, or the right one but nothing applied. */
    private record Liar(boolean wrongAnswer, long applied) implements Engine {
        @Override
        public String name() {
            return "liar";
        }

        @Override
        public void start(int nodes, Path dir, boolean fsync, Map<String, String> settings) {}

        @Override
        public CompletableFuture<byte[]> write(byte[] entry) {
            return CompletableFuture.completedFuture(wrongAnswer ? new byte[entry.length + 1] : entry);
        }

        @Override
        public long applied() {
            return applied;
        }

        @Override
        public boolean durable() {
            return true;
        }

        @Override
        public void close() {}
    }

    @Test
    void optionsAreCheckedWithOneLineErrors() {
        assertThatThrownBy(() -> Floors.parse(new String[] {"--engines", "paxos"}))
                .hasMessageStartingWith("unknown engine paxos; known: ratis-grpc");
        assertThatThrownBy(() -> Floors.parse(new String[] {"--nodes", "2"}))
                .hasMessage("--nodes takes 1 and/or 3, not 2");
        assertThatThrownBy(() -> Floors.parse(new String[] {"--prime", "1h"}))
                .hasMessage("a duration is a number and ms, s or m, not 1h");
        assertThat(Floors.parse(new String[] {"--prime", "90s"}).prime()).isEqualTo(Duration.ofSeconds(90));
    }
}
