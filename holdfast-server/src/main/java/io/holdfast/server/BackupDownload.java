package io.holdfast.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.holdfast.InvalidArgumentException;
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
 * port in turn until the leader answers, writes the body to a file next to the target as it
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
     * Downloads a backup into {@code file} from the first of {@code members} (HTTP base addresses,
     * {@code http://host:4655}) that leads.
     *
     * @param ssl for {@code https} addresses (null: the JVM's defaults)
     * @param token a bearer token, or null
     * @throws Failed when no member sent a backup (every one's reason, in one line)
     * @throws InvalidArgumentException when what arrived is no whole backup
     */
    public static Saved fetch(List<URI> members, SSLContext ssl, String token, Path file, Duration timeout)
            throws IOException, InterruptedException {
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(timeout);
        if (ssl != null) {
            builder.sslContext(ssl);
        }
        HttpClient client = builder.build();
        Path dir = file.toAbsolutePath().getParent();
        List<String> reasons = new ArrayList<>();
        Failed last = null;
        for (URI member : members) {
            Path part = Files.createTempFile(dir, file.getFileName().toString(), ".part");
            try {
                HttpRequest.Builder request =
                        HttpRequest.newBuilder(member.resolve("/api/v1/backup")).GET();
                if (token != null) {
                    request.header("Authorization", "Bearer " + token);
                }
                HttpResponse<Path> response;
                try {
                    response = client.send(request.build(), HttpResponse.BodyHandlers.ofFile(part));
                } catch (IOException e) {
                    reasons.add(member + ": " + HoldfastServer.rootMessage(e));
                    continue;
                }
                if (response.statusCode() == 200) {
                    try (var channel =
                            java.nio.channels.FileChannel.open(part, java.nio.file.StandardOpenOption.WRITE)) {
                        channel.force(true);
                    }
                    BackupFile.Header header;
                    try {
                        header = BackupFile.check(part);
                    } catch (InvalidArgumentException e) {
                        throw new InvalidArgumentException(
                                e.getMessage().replace(part.toString(), "the backup from " + member));
                    }
                    long bytes = Files.size(part);
                    Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    return new Saved(header, bytes, member);
                }
                String message = message(part, response.statusCode());
                last = new Failed(response.statusCode(), message);
                reasons.add(member + ": " + message);
                if (response.statusCode() != 503) {
                    break; // not a follower's "not the leader": asking another member changes nothing
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

    /** The refusal's message from its JSON body, else the status. */
    private static String message(Path body, int status) {
        try {
            JsonNode json = JSON.readTree(Files.readAllBytes(body));
            if (json != null && json.path("error").hasNonNull("message")) {
                return json.path("error").get("message").asText();
            }
        } catch (IOException | RuntimeException e) {
            // not JSON: the status says it
        }
        return "HTTP " + status;
    }
}
