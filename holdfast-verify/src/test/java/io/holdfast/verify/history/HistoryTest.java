package io.holdfast.verify.history;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HistoryTest {
    @TempDir
    Path dir;

    @Test
    void everyRecordTypeSurvivesAWriteAndARead() throws Exception {
        Op invoke = Op.of("c1", 7, 100, "workload", new Call.Acquire(Call.Target.lock("lock-0"), false, 500));
        List<Record> records = List.of(
                new Meta(1, "baseline", 42, 3, 4, null, 3000, Map.of("names", "2"), Set.of(Expectation.HEAL_CATCH_UP)),
                invoke,
                invoke.complete(200, new Result.Granted(12)),
                Op.of("c1", 8, 250, "workload", new Call.Lost(Call.Target.lock("lock-0"), 12, "SESSION_EXPIRED")),
                new StoreWrite(300, StoreWrite.FENCED, "lock-0", 12, "c1", 7, StoreWrite.ENTER, true, 11),
                new Fault(400, FaultAction.KILL, "n1", "leader"),
                new FinalLock(500, "lock-0", List.of("s1"), List.of(12L), 0, List.of("s1", "s2")),
                new CaughtUp(600, "n3", 450, "n1", 77, 78, true, 455L),
                new AddRetried(700, "n4", 620, "n1", 650, 2, true, "changed add n4"));
        Path file = dir.resolve("h.jsonl");
        History.write(file, records);

        assertThat(History.read(file)).containsExactlyElementsOf(records);
    }

    @Test
    void aMetaSavedWithoutExpectationsReadsAsExpectingNothing() throws Exception {
        Path old = dir.resolve("old.jsonl");
        Files.writeString(old, "{\"rec\":\"meta\",\"time\":1,\"scenario\":\"client-paused\",\"seed\":1}\n");
        assertThat(History.read(old))
                .singleElement()
                .isInstanceOfSatisfying(Meta.class, m -> assertThat(m.expects()).isEmpty());
    }

    @Test
    void aTornLastLineIsSkippedButADamagedMiddleLineIsAnError() throws Exception {
        Op op = Op.of("c2", 1, 5, "workload", new Call.RegisterRead("reg"));
        Path torn = dir.resolve("torn.jsonl");
        Files.writeString(torn, History.toLine(op) + "\n{\"rec\":\"op\",\"type\":\"OK\",\"proc");
        assertThat(History.read(torn)).containsExactly(op);

        Path damaged = dir.resolve("damaged.jsonl");
        Files.writeString(damaged, "{\"rec\":\"nope\"}\n" + History.toLine(op) + "\n");
        assertThatThrownBy(() -> History.read(damaged))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("damaged.jsonl:1");
    }

    @Test
    void theWriterAppendsAndReadAllOrdersByTime() throws Exception {
        Path a = dir.resolve("a.jsonl");
        Path b = dir.resolve("b.jsonl");
        try (History.Writer w = new History.Writer(a)) {
            w.append(new Fault(30, FaultAction.KILL, "n2", ""));
            w.append(new Fault(10, FaultAction.PAUSE, "c1", ""));
        }
        try (History.Writer w = new History.Writer(b)) {
            w.append(new Fault(20, FaultAction.HEAL, "all", ""));
        }
        assertThat(History.readAll(List.of(a, b))).extracting(Record::time).containsExactly(10L, 20L, 30L);
    }

    @Test
    void everyKindOfOperationIsItsRecordAgainAfterAWriteAndARead() throws Exception {
        List<Call> calls = List.of(
                new Call.Acquire(new Call.Target("sem-0", Op.Kind.SEMAPHORE, 2, 3), true, 0),
                new Call.Release(new Call.Target("rw-0", Op.Kind.READ, 1, 0), 4),
                new Call.Lost(Call.Target.lock("lock-0"), 5, "LOCK_LOST: revoked"),
                new Call.Valid(new Call.Target("rw-0", Op.Kind.WRITE, 1, 0), 6),
                new Call.ForeignRelease("lock-1", 7),
                new Call.RegisterRead("reg-0"),
                new Call.RegisterWrite("reg-0", 8, 9),
                new Call.Work("election-0", 10),
                new Call.Observed("election-0", 11, "c1:3"),
                new Call.Observed("election-1", 0, null));
        for (Call call : calls) {
            Op op = Op.of("c1", 1, 2, "workload", call);
            assertThat(op.type()).isEqualTo(call instanceof Call.Notice ? Op.Type.NOTICE : Op.Type.INVOKE);
            assertThat(History.fromLine(History.toLine(op))).isEqualTo(op);
            assertThat(op.call()).isEqualTo(call);
        }
    }

    @Test
    void everyKindOfAnswerIsItsRecordAgainAfterAWriteAndARead() throws Exception {
        Op acquire = Op.of("c1", 1, 2, "workload", new Call.Acquire(Call.Target.lock("lock-0"), false, 500));
        Op release = Op.of("c1", 2, 3, "workload", new Call.Release(Call.Target.lock("lock-0"), 4));
        Op read = Op.of("c1", 3, 4, "workload", new Call.RegisterRead("reg-0"));
        Op write = Op.of("c1", 4, 5, "workload", new Call.RegisterWrite("reg-0", 8, 9));
        Map<Op, Result> answers = Map.of(
                acquire, new Result.Granted(12),
                release, new Result.Released(),
                read, new Result.RegisterState(8, 9),
                write, new Result.Written(9));
        for (Map.Entry<Op, Result> e : answers.entrySet()) {
            for (Result r : List.of(e.getValue(), new Result.Refused("CONFLICT"), new Result.Unknown("NO_ANSWER"))) {
                Op done = e.getKey().complete(10, r);
                assertThat(done.type()).isEqualTo(r.type());
                assertThat(done.id()).isEqualTo(e.getKey().id());
                Op again = (Op) History.fromLine(History.toLine(done));
                assertThat(again).isEqualTo(done);
                assertThat(again.result()).isEqualTo(r);
                assertThat(again.call()).isEqualTo(e.getKey().call());
            }
        }
    }

    @Test
    void theKeysLifetimeCallsAndAnOwnedKeyAreTheirRecordsAgainAfterAWriteAndARead() throws Exception {
        List<Call> calls = List.of(
                new Call.KeyPut("lease/c1/0", 7, "session-l"),
                new Call.KeyPut("tmp/c1/0", 8, null),
                new Call.KeyDeletePrefix("tmp/c1/"),
                new Call.SessionClose("session-l"),
                new Call.Member(Call.Member.REJOINED, "group/c1", "session-n", 2),
                new Call.Member(Call.Member.LOST, null, "session-o", 0));
        for (Call call : calls) {
            Op op = Op.of("c1", 1, 2, "workload", call);
            assertThat(History.fromLine(History.toLine(op))).isEqualTo(op);
            assertThat(op.call()).isEqualTo(call);
        }
        Op get = Op.of("c1", 2, 3, "workload", new Call.KeyGet("group/c1"));
        Result owned = new Result.KeyState(List.of(new KeyValue("group/c1", 2, 1, "session-n")));
        Op again = (Op) History.fromLine(History.toLine(get.complete(4, owned)));
        assertThat(again.result()).isEqualTo(owned);
        assertThat(History.toLine(get.complete(4, new Result.KeyState(List.of(new KeyValue("acct/a", 1, 5))))))
                .doesNotContain("owner");
    }

    @Test
    void aKeyReadSavedBeforeOwnersWereReadsWithNone() throws Exception {
        Path saved = dir.resolve("keys.jsonl");
        Files.writeString(saved, """
                {"rec":"op","type":"OK","process":"c1","seq":3,"time":40,"phase":"workload","f":"KEY_GET","key":"acct/a","kind":"KEYS","entries":[{"key":"acct/a","version":2,"value":90}]}
                """);
        assertThat(((Op) History.read(saved).get(0)).result())
                .isEqualTo(new Result.KeyState(List.of(new KeyValue("acct/a", 2, 90, null))));
    }

    @Test
    void linesInTheSavedFormatReadAsTheirRecords() throws Exception {
        Path saved = dir.resolve("saved.jsonl");
        Files.writeString(saved, """
                {"rec":"op","type":"INVOKE","process":"c1","seq":3,"time":10,"phase":"workload","f":"ACQUIRE","key":"lock-0","kind":"LOCK","permits":1,"waitMillis":1000}
                {"rec":"op","type":"NOTICE","process":"c2","seq":4,"time":20,"phase":"workload","f":"OBSERVED","key":"election-0","kind":"LOCK","token":5,"text":"c1:3"}
                {"rec":"op","type":"INVOKE","process":"c2","seq":5,"time":30,"phase":"final","f":"REG_CAS","key":"reg-0","kind":"REGISTER","version":2,"value":7}
                {"rec":"op","type":"OK","process":"c1","seq":3,"time":40,"phase":"workload","f":"ACQUIRE","key":"lock-0","kind":"LOCK","permits":1,"waitMillis":1000,"token":12}
                {"rec":"op","type":"OK","process":"c2","seq":5,"time":50,"phase":"final","f":"REG_CAS","key":"reg-0","kind":"REGISTER","version":2,"value":7,"newVersion":3}
                {"rec":"op","type":"FAIL","process":"c2","seq":6,"time":60,"phase":"final","f":"REG_CAS","key":"reg-0","kind":"REGISTER","version":2,"value":8,"error":"CONFLICT"}
                {"rec":"op","type":"UNKNOWN","process":"c3","seq":1,"time":70,"phase":"workload","f":"RELEASE","key":"lock-0","kind":"LOCK","permits":1,"token":12,"error":"UNAVAILABLE"}
                """);
        Op acquire = Op.of("c1", 3, 10, "workload", new Call.Acquire(Call.Target.lock("lock-0"), false, 1000));
        Op write = Op.of("c2", 5, 30, "final", new Call.RegisterWrite("reg-0", 2, 7));
        List<Record> read = History.read(saved);
        assertThat(read.subList(0, 5))
                .containsExactly(
                        acquire,
                        Op.of("c2", 4, 20, "workload", new Call.Observed("election-0", 5, "c1:3")),
                        write,
                        acquire.complete(40, new Result.Granted(12)),
                        write.complete(50, new Result.Written(3)));
        assertThat(read.subList(3, 7))
                .extracting(r -> ((Op) r).result())
                .containsExactly(
                        new Result.Granted(12),
                        new Result.Written(3),
                        new Result.Refused("CONFLICT"),
                        new Result.Unknown("UNAVAILABLE"));
    }
}
