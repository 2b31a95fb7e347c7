package io.holdfast.server.backup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Where backups are kept: a local directory ({@link LocalStore}) or a bucket and prefix of an
 * S3-compatible object store ({@link S3Store}). Scheduled backups, {@code holdfast backup} and
 * {@code holdfast restore} use one engine on either; names are file names ({@code
 * holdfast-<cluster id>-<UTC time>.hfbk}), without the directory or prefix.
 *
 * <p><b>Guarantees.</b> {@link #put} makes a backup appear whole or not at all (a local file is
 * written next to its name, synced and renamed; an object is uploaded from a finished local copy
 * in one request, which S3 stores whole or not at all). Every failure is a {@link Failed} whose
 * message is one line naming the backup (its path or {@code s3://} address) and the cause, and
 * never a credential.
 *
 * <p><b>Not guaranteed.</b> That a backup listed is still there when it is read: another writer
 * (another cluster's retention, an operator) may delete it in between.
 *
 * <p>Failure story: the bucket's credentials are rotated and the server still has the old ones.
 * Each scheduled backup fails with "s3://b/p/holdfast-….hfbk: access denied (InvalidAccessKeyId…)",
 * counted and logged; restarting the members with the new environment puts it right.
 */
public interface BackupStore extends AutoCloseable {
    /** How the backup {@code name} is named to people: its path, or its {@code s3://} address. */
    String locate(String name);

    /**
     * Writes the backup {@code name} with what {@code writer} writes, replacing one of that name.
     *
     * @return the bytes stored
     */
    long put(String name, BackupFile.Writer writer) throws IOException;

    /**
     * Copies the backup {@code name} into the file {@code into}, which must not exist yet.
     *
     * @throws Failed ({@link Failed.Kind#MISSING}) when there is no such backup
     */
    void get(String name, Path into) throws IOException;

    /** The names of the backups that start with {@code start}, in no particular order. */
    List<String> list(String start) throws IOException;

    /** Deletes the backup {@code name}; nothing happens when there is none. */
    void delete(String name) throws IOException;

    @Override
    void close();

    /** A store refused, or could not be reached; the message is one line. */
    final class Failed extends IOException {
        private static final long serialVersionUID = 1L;

        /** What went wrong, for an exit code. */
        public enum Kind {
            /** No such backup, or no such bucket. */
            MISSING,
            /** The store refused the credentials or the request. */
            DENIED,
            /** The store could not be reached, or failed. */
            UNAVAILABLE
        }

        private final Kind kind;

        public Failed(Kind kind, String message, Throwable cause) {
            super(message, cause);
            this.kind = kind;
        }

        public Kind kind() {
            return kind;
        }
    }
}
