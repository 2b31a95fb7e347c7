package io.holdfast.server.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.EventSink;
import io.holdfast.core.LockTable;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Command;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.KeyPage;
import io.holdfast.model.Reply;
import io.holdfast.model.SessionIds;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backup taken by the build before keys (protocol version 5, commit b9b792c: a single node, one
 * register {@code config/mode} = "fast" written over HTTP, {@code jobs/nightly} held, then {@code
 * holdfast backup}) restores into this build, its register is a key, and the restored table takes
 * the commands of protocol version 6.
 */
class OlderBackupTest {
    @TempDir
    Path dir;

    @Test
    void aBackupOfTheBuildBeforeKeysRestoresAndItsRegisterIsAKey() throws Exception {
        Path file = dir.resolve("before-keys.backup");
        try (InputStream in = getClass().getResourceAsStream("/backups/before-keys-b9b792c.backup")) {
            Files.copy(in, file);
        }
        BackupFile.Verified backup = BackupFile.read(file);
        LockTable table = backup.table();

        assertThat(table.register("config/mode")).hasValueSatisfying(v -> {
            assertThat(v.version()).isEqualTo(1);
            assertThat(new String(v.value(), StandardCharsets.UTF_8)).isEqualTo("fast");
        });
        KeyPage page = table.keys("config/", null, 10, key -> true, new ChangePosition(8, 0));
        assertThat(page.keys()).singleElement().satisfies(k -> {
            assertThat(k.key()).isEqualTo("config/mode");
            assertThat(k.owner()).isNull();
            assertThat(k.expiresAt()).isZero();
        });

        String session = SessionIds.newId();
        long now = table.now() + 1;
        assertThat(table.apply(now, new Command.OpenSession(session, "after", 60_000, 0), EventSink.NONE))
                .isEqualTo(Reply.Ok.INSTANCE);
        Command.Invocation first = new Command.Invocation(session, 1, 1);
        assertThat(table.apply(now, new CounterAdd(first, "hits", 5), EventSink.NONE))
                .isEqualTo(new Reply.Counted(5, 1));
        Command.Invocation second = new Command.Invocation(session, 2, 1);
        assertThat(table.apply(now, new KeyDelete(second, "config/mode", 1), EventSink.NONE))
                .isInstanceOf(Reply.Ok.class);
        assertThat(table.register("config/mode")).isEmpty();
    }
}
