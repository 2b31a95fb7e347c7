package io.holdfast.core;

import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.core.TableDriver.Client;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@link LockTable#restored}: what a cluster restored from a backup starts with. */
class RestoreTest {
    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a");
    private final Client b = d.open("b");

    @Test
    void sessionsHoldsAndWaitsAreGoneRegistersAndRulesStay() {
        long held = token(a.acquire("x").apply());
        b.acquire("x").waitMillis(60_000).apply();
        a.set("k", 0, "v".getBytes(StandardCharsets.UTF_8));

        LockTable restored = d.table().restored(0);

        assertThat(restored.stats().sessions()).isZero();
        assertThat(restored.stats().holds()).isZero();
        assertThat(restored.stats().waiters()).isZero();
        assertThat(restored.describe("x", 0)).isEmpty();
        assertThat(restored.register("k").orElseThrow().version()).isEqualTo(1);
        assertThat(restored.stats().registerBytes()).isEqualTo(1);
        assertThat(restored.lastToken()).isEqualTo(held);
        // The original is untouched.
        assertThat(d.table().stats().holds()).isEqualTo(1);
    }

    @Test
    void theNextTokenIsAboveTheBackupsAndTheFloor() {
        long held = token(a.acquire("x").apply());
        long floor = held + (1L << 40);

        TableDriver after = new TableDriver(d.table().restored(floor));
        long next = token(after.open("c").acquire("x").apply());

        assertThat(next).isGreaterThan(floor).isGreaterThan(held);
        // A floor below the backup's last token does not lower it.
        assertThat(d.table().restored(1).lastToken()).isEqualTo(held);
        assertThatThrownBy(() -> d.table().restored(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theRestoredTableSurvivesASnapshotRoundTrip() throws Exception {
        a.acquire("x").apply();
        a.set("k", 0, new byte[] {1, 2, 3});
        LockTable restored = d.table().restored(500);

        LockTable read = LockTable.readSnapshot(new java.io.ByteArrayInputStream(TableDriver.snapshotOf(restored)));

        assertThat(TableDriver.snapshotOf(read)).isEqualTo(TableDriver.snapshotOf(restored));
        assertThat(read.lastToken()).isEqualTo(500);
    }
}
