package io.holdfast.server.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.holdfast.InvalidArgumentException;
import io.holdfast.internal.Causes;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * The client side of {@code GET /api/v1/backup} ({@code holdfast backup}): asks each member's HTTP
 * port in turn until the leader answers (a follower names the leader's HTTP address, which is
 * asked next), writes the body to a file next to the target as it
 * arrives, checks the whole file ({@link BackupFile#check}: format and SHA-256), and only then
 * renames it to the target.
 *
 * <p><b>Guarantees.</b> The target is either the whole, checked backup or untouched: a transfer
 * cut short, or damaged on the way, is refused with one line and its partial file deleted. Memory
 * does not grow with the backup.
 *
 * <p><b>Not guaranteed.</b> That a member which does not answer is not the leader: when none of
 * those tried answers with a backup, the call fails with each one's reason.
 *
 * <p>Failure story: the leader is restarted half-way through a 2 GiB backup. The body ends without
 * its checksum; the call fails with "… is damaged or truncated (its SHA-256 does not match)", the
 * part file is gone, and the previous backup at the target, if any, is untouched.
 */
public final class BackupDownload {
    private static final ObjectMapper JSON = new ObjectMapper();

    private BackupDownload() {}

    /** What was saved, and which member sent it. */
    public record Saved(BackupFile.Header header, long bytes, URI from) {}

    /**
     * A member refused, or none could be asked; the message is one line.
     *
     * @see #status()
     */
    public static final class Failed extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;

        Failed(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }

        /** The HTTP status of the refusal (401, 403, 503, …), or 0 when no member answered. */
        public int status() {
            return status;
        }
    }

    /**
     * The file cannot be written: its message is one line that names the path the caller gave and
     * the cause (a directory that does not exist, permission denied, a full disk).
     */
    public static final class Unwritable extends IOException {
        private static final long serialVersionUID = 1L;

        Unwritable(Path file, String cause, Throwable error) {
            super("cannot write " + file + ": " + cause, error);
        }
    }

    /**
     * Downloads a backup into {@code file} from the first of {@code members} (HTTP base addresses,
     * {@code http://host:4655}) that leads; a member that does not lead and names the leader's
     * HTTP address ({@code leaderHttpAddress}) sends the call there next.
     *
     * @param ssl for {@code https} addresses (null: the JVM's defaults)
     * @param token a bearer token, or null
     * @throws Failed when no member sent a backup (every one's reason, in one line)
     * @throws Unwritable when {@code file} cannot be written, before or while the backup arrives
     * @throws InvalidArgumentException when what arrived is no whole backup
     */
    public static Saved fetch(List<URI> members, SSLContext ssl, String token, Path file, Duration timeout)
            throws IOException, InterruptedException {
        Path dir = writableDirectory(file);
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(timeout);
        if (ssl != null) {
            builder.sslContext(ssl);
        }
        HttpClient client = builder.build();
        List<String> reasons = new ArrayList<>();
        Failed last = null;
        java.util.Deque<URI> toAsk = new java.util.ArrayDeque<>(members);
        java.util.Set<String> asked = new java.util.HashSet<>();
        while (!toAsk.isEmpty()) {
            URI member = toAsk.poll();
            if (!asked.add(member.getHost() + ":" + member.getPort())) {
                continue;
            }
            Path part;
            try {
                part = Files.createTempFile(dir, file.getFileName().toString(), ".part");
            } catch (IOException e) {
                throw new Unwritable(file, cause(e, dir), e);
            }
            try {
                HttpRequest.Builder request =
                        HttpRequest.newBuilder(member.resolve("/api/v1/backup")).GET();
                if (token != null) {
                    request.header("Authorization", "Bearer " + token);
                }
                HttpResponse<java.io.InputStream> response;
                try {
                    response = client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
                    copy(response.body(), part, file, dir);
                } catch (Unwritable e) {
                    throw e;
                } catch (IOException e) {
                    reasons.add(member + ": " + Causes.rootMessage(e));
                    continue;
                }
                if (response.statusCode() == 200) {
                    BackupFile.Header header;
                    try {
                        header = BackupFile.check(part);
                    } catch (InvalidArgumentException e) {
                        throw new InvalidArgumentException(
                                e.getMessage().replace(part.toString(), "the backup from " + member));
                    }
                    long bytes = Files.size(part);
                    try {
                        Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    } catch (IOException e) {
                        throw new Unwritable(file, cause(e, dir), e);
                    }
                    return new Saved(header, bytes, member);
                }
                JsonNode error = error(part);
                String message =
                        error.hasNonNull("message") ? error.get("message").asText() : "HTTP " + response.statusCode();
                last = new Failed(response.statusCode(), message);
                reasons.add(member + ": " + message);
                if (response.statusCode() != 503) {
                    break; // not a follower's "not the leader": asking another member changes nothing
                }
                if (error.hasNonNull("leaderHttpAddress")) {
                    // The leader, next: at the same scheme as this member.
                    toAsk.addFirst(URI.create(member.getScheme() + "://"
                            + error.get("leaderHttpAddress").asText()));
                }
            } finally {
                Files.deleteIfExists(part);
            }
        }
        if (last != null && last.status() != 503) {
            throw last;
        }
        throw new Failed(last == null ? 0 : 503, "no member sent a backup (" + String.join("; ", reasons) + ")");
    }

    /**
     * The directory {@code file} goes into, once it is one that exists (else {@link Unwritable}
     * says which part of the path is wrong).
     */
    public static Path writableDirectory(Path file) throws Unwritable {
        Path dir = file.toAbsolutePath().getParent();
        if (dir == null || Files.isDirectory(file)) {
            throw new Unwritable(file, "it is a directory; give a file name", null);
        }
        if (!Files.exists(dir)) {
            throw new Unwritable(file, "directory " + dir + " does not exist", null);
        }
        if (!Files.isDirectory(dir)) {
            throw new Unwritable(file, dir + " is not a directory", null);
        }
        return dir;
    }

    /**
     * Copies the body into {@code part} and syncs it: a failure to read is the member's (an {@link
     * IOException}), a failure to write is the file's ({@link Unwritable}).
     */
    private static void copy(java.io.InputStream body, Path part, Path file, Path dir) throws IOException {
        try (java.io.InputStream in = body;
                var out = java.nio.channels.FileChannel.open(part, java.nio.file.StandardOpenOption.WRITE)) {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(buffer, 0, n);
                try {
                    while (bytes.hasRemaining()) {
                        out.write(bytes);
                    }
                } catch (IOException e) {
                    throw new Unwritable(file, cause(e, dir), e);
                }
            }
            try {
                out.force(true);
            } catch (IOException e) {
                throw new Unwritable(file, cause(e, dir), e);
            }
        }
    }

    /** The cause of a failure to write into {@code dir}, in words. */
    static String cause(IOException e, Path dir) {
        String text = String.valueOf(e instanceof java.nio.file.FileSystemException fse ? fse.getReason() : null) + " "
                + e.getMessage();
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "directory " + dir + " does not exist";
        }
        if (e instanceof java.nio.file.AccessDeniedException || text.contains("Permission denied")) {
            return "permission denied (directory " + dir + ")";
        }
        if (text.contains("No space left on device")) {
            return "the disk is full (No space left on device)";
        }
        if (text.contains("Disk quota exceeded")) {
            return "the disk quota is exceeded";
        }
        if (text.contains("Read-only file system")) {
            return "the file system is read-only";
        }
        return Causes.rootMessage(e);
    }

    /** The refusal's {@code error} object from its JSON body, else an empty one. */
    private static JsonNode error(Path body) {
        try {
            JsonNode json = JSON.readTree(Files.readAllBytes(body));
            if (json != null && json.path("error").isObject()) {
                return json.path("error");
            }
        } catch (IOException | RuntimeException e) {
            // not JSON: the status says it
        }
        return JSON.createObjectNode();
    }
}
