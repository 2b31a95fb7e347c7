package io.holdfast.server.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * How {@code holdfast backup} words a file it cannot write: the causes a test cannot make on any
 * machine (root writes anywhere; a full disk needs one), from the exceptions the JDK throws for
 * them. {@code BackupRestoreCommandTest} runs the missing directory for real.
 */
class BackupDownloadTest {
    private static final Path DIR = Path.of("/backups");

    @Test
    void eachCauseIsNamedInWords() {
        assertThat(BackupDownload.cause(new NoSuchFileException("/backups/b.hfbk123.part"), DIR))
                .isEqualTo("directory /backups does not exist");
        assertThat(BackupDownload.cause(new AccessDeniedException("/backups/b.hfbk123.part"), DIR))
                .isEqualTo("permission denied (directory /backups)");
        assertThat(BackupDownload.cause(new IOException("No space left on device"), DIR))
                .isEqualTo("the disk is full (No space left on device)");
        assertThat(BackupDownload.cause(
                        new FileSystemException("/backups/b.hfbk123.part", null, "Read-only file system"), DIR))
                .isEqualTo("the file system is read-only");
        assertThat(BackupDownload.cause(new IOException("Disk quota exceeded"), DIR))
                .isEqualTo("the disk quota is exceeded");
    }

    @Test
    void anUnwritableFileIsNamedAsGiven() {
        Path given = Path.of("rel/b.hfbk");
        assertThat(new BackupDownload.Unwritable(given, "directory /x/rel does not exist", null))
                .hasMessage("cannot write rel/b.hfbk: directory /x/rel does not exist");
    }
}
