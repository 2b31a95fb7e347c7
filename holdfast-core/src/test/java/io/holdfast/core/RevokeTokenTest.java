package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link Command.RevokeToken}: the replicated deny list of bearer tokens, bounded in time and size. */
class RevokeTokenTest {
    private final TableDriver d = new TableDriver();

    private Reply revoke(String identity, String jti, long keepMillis) {
        return d.table()
                .apply(new Command.Envelope(d.time(), identity, new Command.RevokeToken(jti, keepMillis)), e -> {});
    }

    @Test
    void aRevokedIdIsOnTheListUntilItsTimeThenDropped() {
        long at = d.time();
        assertThat(d.apply(new Command.RevokeToken("t-1", 60_000))).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(d.table().isTokenRevoked("t-1")).isTrue();
        assertThat(d.table().isTokenRevoked("t-2")).isFalse();
        d.tickAt(at + 59_999);
        assertThat(d.table().isTokenRevoked("t-1")).isTrue();
        d.tickAt(at + 60_000);
        assertThat(d.table().isTokenRevoked("t-1"))
                .as("dropped at its time: the table does not grow")
                .isFalse();
    }

    @Test
    void aSecondRevocationOnlyEverKeepsTheIdLonger() {
        long at = d.time();
        d.apply(new Command.RevokeToken("t-1", 60_000));
        d.apply(new Command.RevokeToken("t-1", 1_000));
        d.tickAt(at + 30_000);
        assertThat(d.table().isTokenRevoked("t-1")).isTrue();
    }

    @Test
    void onlyAnAdminRevokesWhileRulesAreOn() {
        d.table()
                .apply(
                        Command.Envelope.of(
                                d.time(),
                                new Command.SetAccessRules(
                                        "user ops root\nuser bob r\n" + "role root admin *\nrole r read *\n")),
                        e -> {});
        assertThat(failed(revoke("bob", "t-1", 60_000), ErrorCode.PERMISSION_DENIED)
                        .message())
                .isEqualTo("identity bob may not revoke token t-1");
        failed(revoke(null, "t-1", 60_000), ErrorCode.PERMISSION_DENIED);
        assertThat(revoke("ops", "t-1", 60_000)).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(d.table().isTokenRevoked("t-1")).isTrue();
    }

    @Test
    void badIdsAndTimesAreRefused() {
        failed(d.apply(new Command.RevokeToken("", 60_000)), ErrorCode.INVALID_ARGUMENT);
        failed(d.apply(new Command.RevokeToken("t", 0)), ErrorCode.INVALID_ARGUMENT);
        assertThat(failed(
                                d.apply(new Command.RevokeToken("t", RevokedTokens.MAX_KEEP_MILLIS + 1)),
                                ErrorCode.INVALID_ARGUMENT)
                        .message())
                .contains("rotate its key instead");
    }

    @Test
    void theListIsBoundedInSize() {
        for (int i = 0; i < RevokedTokens.MAX_IDS; i++) {
            assertThat(d.apply(new Command.RevokeToken("t-" + i, 60_000))).isEqualTo(Reply.Ok.INSTANCE);
        }
        assertThat(failed(d.apply(new Command.RevokeToken("one-more", 60_000)), ErrorCode.QUOTA_EXCEEDED)
                        .message())
                .contains("rotate the signing key");
        d.advance(60_000).tick();
        assertThat(d.apply(new Command.RevokeToken("one-more", 60_000))).isEqualTo(Reply.Ok.INSTANCE);
    }

    @Test
    void theListIsInSnapshotsOfFormatFiveAndATableWithoutOneKeepsTheOlderFormat() throws IOException {
        d.open("a");
        byte[] without = d.snapshot();
        assertThat(ByteBuffer.wrap(without).getInt(4))
                .as("format without revoked tokens")
                .isEqualTo(3);

        long at = d.time();
        d.apply(new Command.RevokeToken("t-1", 60_000));
        d.apply(new Command.RevokeToken("t-0", 90_000));
        byte[] with = d.snapshot();
        assertThat(ByteBuffer.wrap(with).getInt(4)).isEqualTo(5);
        LockTable read = LockTable.readSnapshot(new ByteArrayInputStream(with), Set.of());
        assertThat(TableDriver.snapshotOf(read)).isEqualTo(with);
        assertThat(read.isTokenRevoked("t-0")).isTrue();
        assertThat(read.isTokenRevoked("t-1")).isTrue();
        read.apply(new Command.Envelope(at + 60_000, null, new Command.Tick()), e -> {});
        assertThat(read.isTokenRevoked("t-1")).as("its time came with it").isFalse();
        assertThat(read.isTokenRevoked("t-0")).isTrue();

        assertThat(d.table().restored(0).isTokenRevoked("t-0"))
                .as("a restored cluster keeps the list")
                .isTrue();
    }
}
