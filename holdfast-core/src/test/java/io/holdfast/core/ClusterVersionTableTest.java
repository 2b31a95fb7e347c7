package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ErrorCode;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The members' protocol versions as the table keeps them: reported through the log by members
 * only, the cluster's version the lowest of its members' (one that has not reported counting as
 * 1), kept in snapshots, and dropped by a restore.
 */
class ClusterVersionTableTest {
    private static Reply report(LockTable table, String identity, String member, int version) {
        return table.apply(new Command.Envelope(0, identity, new Command.ReportVersion(member, version)), e -> {});
    }

    @Test
    void theClusterSpeaksTheLowestVersionItsMembersReported() {
        LockTable table = new LockTable();
        assertThat(table.clusterVersion(List.of("n1", "n2", "n3"))).isEqualTo(1);
        assertThat(report(table, null, "n1", 3)).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(report(table, null, "n2", 2)).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(table.clusterVersion(List.of("n1", "n2", "n3")))
                .as("n3 has not reported: it counts as 1")
                .isEqualTo(1);
        report(table, null, "n3", 2);
        assertThat(table.clusterVersion(List.of("n1", "n2", "n3"))).isEqualTo(2);
        assertThat(table.clusterVersion(List.of("n1"))).isEqualTo(3);
        report(table, null, "n1", 1); // rolled back
        assertThat(table.clusterVersion(List.of("n1", "n2", "n3"))).isEqualTo(1);
        assertThat(table.memberVersions()).containsExactly(Map.entry("n1", 1), Map.entry("n2", 2), Map.entry("n3", 2));
        assertThat(table.clusterVersion(List.of())).isEqualTo(1);
    }

    /**
     * Once the leader recorded the cluster's version (a report under {@link LockTable#VERSION_FLOOR}),
     * a member that has not reported (one just added) or that reports less does not lower it, and
     * a report under that name only ever raises it.
     */
    @Test
    void theRecordedVersionIsAFloorThatOnlyRises() {
        LockTable table = new LockTable();
        for (String m : List.of("n1", "n2", "n3")) {
            report(table, null, m, 4);
        }
        assertThat(table.versionFloor()).isZero();
        assertThat(table.clusterVersion(List.of("n1", "n2", "n3", "n4")))
                .as("without a floor, n4 (not reported) counts as 1")
                .isEqualTo(1);
        assertThat(report(table, null, LockTable.VERSION_FLOOR, 4)).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(table.versionFloor()).isEqualTo(4);
        assertThat(table.clusterVersion(List.of("n1", "n2", "n3", "n4"))).isEqualTo(4);
        report(table, null, "n2", 3); // an older build started under n2's id
        assertThat(table.clusterVersion(List.of("n1", "n2", "n3"))).isEqualTo(4);
        report(table, null, LockTable.VERSION_FLOOR, 2);
        assertThat(table.versionFloor()).as("never lowered by a report").isEqualTo(4);
        report(table, null, LockTable.VERSION_FLOOR, 5);
        assertThat(table.clusterVersion(List.of("n1"))).isEqualTo(5);
        assertThat(table.memberVersions()).doesNotContainKey(LockTable.VERSION_FLOOR);
    }

    @Test
    void aSnapshotAndARestoreKeepTheFloor() throws Exception {
        LockTable table = new LockTable();
        report(table, null, "n1", 4);
        report(table, null, LockTable.VERSION_FLOOR, 4);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        table.writeSnapshot(out);
        LockTable read = LockTable.readSnapshot(new ByteArrayInputStream(out.toByteArray()));
        assertThat(read.versionFloor()).isEqualTo(4);
        LockTable restored = read.restored(0);
        assertThat(restored.memberVersions()).isEmpty();
        assertThat(restored.versionFloor()).isEqualTo(4);
        assertThat(restored.clusterVersion(List.of("n1", "n2", "n3")))
                .as("a restored cluster's members have not reported yet")
                .isEqualTo(4);
    }

    @Test
    void onlyMembersReportAndNonsenseIsRefused() {
        LockTable table = new LockTable();
        Reply byClient = report(table, "alice", "n1", 2);
        assertThat(byClient).isInstanceOf(Reply.Failed.class);
        assertThat(((Reply.Failed) byClient).code()).isEqualTo(ErrorCode.PERMISSION_DENIED);
        for (Reply bad : List.of(
                report(table, null, "n1", 0),
                report(table, null, "", 1),
                report(table, null, "x".repeat(MemberVersions.MAX_ID_LENGTH + 1), 1))) {
            assertThat(bad).isInstanceOf(Reply.Failed.class);
            assertThat(((Reply.Failed) bad).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        }
        assertThat(table.memberVersions()).isEmpty();
        assertThat(table.now()).as("a report does not move the clock").isZero();
    }

    @Test
    void aSnapshotKeepsTheVersionsAndARestoreDropsThem() throws Exception {
        LockTable table = new LockTable();
        report(table, null, "n1", 2);
        report(table, null, "n2", 1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        table.writeSnapshot(out);
        LockTable read = LockTable.readSnapshot(new ByteArrayInputStream(out.toByteArray()));
        assertThat(read.memberVersions()).isEqualTo(table.memberVersions());
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        read.writeSnapshot(again);
        assertThat(again.toByteArray()).as("canonical").isEqualTo(out.toByteArray());
        assertThat(table.restored(0).memberVersions()).isEmpty();
    }

    /**
     * A report under a name no member can have (a colon in it) is how the server records its
     * cluster's identity: kept by snapshots, but no member's version.
     */
    @Test
    void aReportUnderAReservedNameIsKeptButIsNoMembersVersion() throws Exception {
        LockTable table = new LockTable();
        report(table, null, "n1", 4);
        report(table, null, "cluster-id:5f0c2a6e-0000-4000-8000-000000000001", 1);
        assertThat(table.memberVersions()).containsExactly(Map.entry("n1", 4));
        assertThat(table.versionReports()).containsKey("cluster-id:5f0c2a6e-0000-4000-8000-000000000001");
        assertThat(table.clusterVersion(List.of("n1"))).isEqualTo(4);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        table.writeSnapshot(out);
        LockTable read = LockTable.readSnapshot(new ByteArrayInputStream(out.toByteArray()));
        assertThat(read.versionReports()).isEqualTo(table.versionReports());
        assertThat(read.memberVersions()).containsExactly(Map.entry("n1", 4));
    }

    @Test
    void aVocabularyKnowsWhatItsVersionIncludes() {
        Map<Integer, Integer> types = new TreeMap<>();
        types.put(1, 1);
        types.put(2, 2);
        Vocabulary newer = new Vocabulary(2, types);
        Vocabulary older = newer.atVersion(1);
        assertThat(newer.knows(2)).isTrue();
        assertThat(older.knows(2)).isFalse();
        assertThat(older.knows(1)).isTrue();
        assertThat(newer.since(2)).isEqualTo(2);
        assertThat(newer.knows(3)).isFalse();
        assertThat(newer.allInVersionOne()).isFalse();
        assertThat(older.allInVersionOne()).isTrue();
        // The multi-lock (AcquireAll) is of version 2: this build looks the cluster's version up.
        assertThat(Vocabulary.CURRENT.allInVersionOne()).isFalse();
        assertThat(Vocabulary.CURRENT.since(CommandCodec.Type.ACQUIRE_ALL.code)).isEqualTo(2);
        assertThat(Vocabulary.CURRENT.atVersion(1).knows(CommandCodec.Type.ACQUIRE_ALL.code))
                .isFalse();
        assertThat(Vocabulary.CURRENT.version()).isEqualTo(Vocabulary.VERSION);
        assertThatThrownBy(() -> new Vocabulary(0, types)).isInstanceOf(IllegalArgumentException.class);
    }

    private static Reply open(LockTable table, String id) {
        return table.apply(new Command.Envelope(0, null, new Command.OpenSession(id, "c", 10_000, 0)), e -> {});
    }

    /**
     * One rule for session ids, in the table and at the opener, from protocol version 6: an id that
     * begins with '-' or is shorter than a new id is refused by the table once the cluster's
     * version is recorded at 6, and still opened below it (entries of older builds replay alike).
     */
    @Test
    void fromVersionSixTheTableRefusesTheIdsNoOpenerMayChoose() {
        String dash = "-" + "a".repeat(21);
        String shorter = "b".repeat(16);
        LockTable older = new LockTable();
        report(older, null, LockTable.VERSION_FLOOR, 5);
        assertThat(open(older, dash)).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(open(older, shorter)).isEqualTo(Reply.Ok.INSTANCE);

        LockTable table = new LockTable();
        report(table, null, LockTable.VERSION_FLOOR, 6);
        assertThat(open(table, dash))
                .isEqualTo(Reply.Failed.of(ErrorCode.INVALID_ARGUMENT, "session id must not begin with '-'"));
        assertThat(open(table, shorter))
                .isEqualTo(Reply.Failed.of(ErrorCode.INVALID_ARGUMENT, "session id must be 22 to 128 characters"));
        assertThat(open(table, io.holdfast.model.SessionIds.newId())).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(table.sessionCount()).isEqualTo(1);
    }
}
