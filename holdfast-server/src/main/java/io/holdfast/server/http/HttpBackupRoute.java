package io.holdfast.server.http;

import com.sun.net.httpserver.HttpExchange;
import io.holdfast.internal.Causes;
import io.holdfast.server.backup.BackupFile;
import io.holdfast.server.backup.Backups;
import io.holdfast.server.http.HttpMessages.Refused;
import io.holdfast.server.node.NodeParts;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/v1/backup} on the HTTP port: a backup of the cluster's lock table, streamed as
 * it is read ({@link BackupFile}'s format, chunked), from the leader. {@code holdfast backup}
 * saves it to a file as it arrives.
 *
 * <p>Why HTTP: this port is the node's own admin path, served by this module, and a chunked
 * answer streams a body of any size with the JDK alone; a gRPC stream would need a new call in the
 * protocol, the endpoint and the client runtime, which carry the lock traffic.
 *
 * <p><b>Guarantees.</b> The copy is taken after a read barrier, so it holds every write
 * acknowledged before the request, at one log index. It is written first to a file in the data
 * directory (the table is locked only while that file is written, as for a Ratis snapshot), then
 * sent from there, so a slow reader never holds the table, and the node's memory does not grow
 * with the table. Admin only with access control on; a follower answers {@code 503} naming the
 * leader.
 *
 * <p><b>Not guaranteed.</b> A transfer cut in the middle cannot be told by its status (sent
 * first): the receiver finds out because the body ends without its checksum, and refuses it.
 *
 * <p>Failure story: the disk of the leader is full. Writing the copy fails before anything is
 * sent; the caller gets {@code 500} with the reason in one line, and the partial copy is deleted.
 */
final class HttpBackupRoute {
    private static final Logger LOG = LoggerFactory.getLogger(HttpBackupRoute.class);

    private HttpBackupRoute() {}

    /**
     * {@code GET /api/v1/backup}: the backup as a chunked body, or a refusal before any of it
     * (thrown), on the caller's thread.
     */
    static void takeBackup(NodeParts node, HttpRoutes.Request request) throws IOException {
        String identity = request.identity();
        HttpExchange ex = request.exchange();
        long started = node.ticker().nanos();
        boolean[] sent = {false};
        if (!node.isAdmin(identity)) {
            throw new Refused(
                    403,
                    "PERMISSION_DENIED",
                    (identity == null ? "an unauthenticated client" : "identity " + identity)
                            + " may not take a backup: that needs admin");
        }
        try {
            BackupFile.Header header = take(node, node.wallClock().millis(), ex.getResponseBody(), () -> {
                ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
                ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
                try {
                    ex.sendResponseHeaders(200, 0);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                sent[0] = true;
            });
            LOG.info(
                    "Sent a backup at log index {} ({} bytes of table) to {} in {} ms",
                    header.index(),
                    header.tableBytes(),
                    ex.getRemoteAddress(),
                    (node.ticker().nanos() - started) / 1_000_000);
        } catch (IOException | RuntimeException e) {
            if (sent[0]) {
                // The status is sent: end the body early; the reader finds no checksum and refuses it.
                LOG.warn("A backup sent to {} was cut: {}", ex.getRemoteAddress(), Causes.rootMessage(e));
                return;
            }
            throw e;
        }
    }

    private static BackupFile.Header take(NodeParts node, long nowMillis, OutputStream out, Runnable beforeFirstByte)
            throws IOException {
        try {
            return Backups.take(node, nowMillis, out, beforeFirstByte);
        } catch (ExecutionException e) {
            Refused r = HttpMessages.refusal(e.getCause(), node::leaderId, node::leaderHttpAddress);
            throw r != null ? r : new Refused(503, "UNAVAILABLE", Causes.rootMessage(e));
        } catch (TimeoutException e) {
            throw new Refused(
                    504,
                    "TIMEOUT",
                    "the cluster did not confirm this node's leadership within " + Backups.BARRIER_TIMEOUT.toSeconds()
                            + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Refused(503, "UNAVAILABLE", "interrupted");
        }
    }
}
