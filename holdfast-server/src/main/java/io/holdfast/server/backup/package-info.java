/**
 * Backups and restore: the file format ({@link io.holdfast.server.backup.BackupFile}), taking one
 * at the leader after a read barrier ({@link io.holdfast.server.backup.Backups}), on a schedule
 * ({@link io.holdfast.server.backup.BackupSchedule}), downloading one from a cluster ({@link
 * io.holdfast.server.backup.BackupDownload}) and seeding a new cluster from one ({@link
 * io.holdfast.server.backup.Restore}); where backups are kept ({@link
 * io.holdfast.server.backup.BackupStore}: a directory, or an S3-compatible object store) and their
 * encryption with the operator's key ({@link io.holdfast.server.backup.BackupKey}). A front door:
 * the CLI uses it directly.
 */
package io.holdfast.server.backup;
