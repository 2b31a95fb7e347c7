package io.holdfast.server.backup;

import io.holdfast.InvalidArgumentException;
import io.holdfast.internal.Causes;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Backups as objects under {@code s3://BUCKET/PREFIX} in an S3-compatible object store (AWS S3,
 * MinIO, Ceph, S3Proxy…), through the AWS SDK for Java v2 and the JDK's HTTP client.
 *
 * <p>Credentials come from the environment only, {@code AWS_ACCESS_KEY_ID} and {@code
 * AWS_SECRET_ACCESS_KEY} (and {@code AWS_SESSION_TOKEN} if set): never from the command line,
 * where {@code ps} shows them, and never from the SDK's other sources (profiles, instance
 * metadata), so what a member uses is what its environment says. With an endpoint ({@code
 * --s3-endpoint}) requests use path-style addresses ({@code http://host:port/BUCKET/KEY}), which
 * every S3-compatible server serves; without one, AWS's endpoint for the region.
 *
 * <p><b>Guarantees.</b> As {@link BackupStore}'s. An object is uploaded from a finished local copy
 * (in {@code scratch}, deleted afterwards), so its length is known and a failed upload leaves no
 * object. Failures are one line: the backup's address, then S3's error code and message, or why
 * it could not be reached; the SDK's messages carry no secret.
 *
 * <p><b>Not guaranteed.</b> Uploads above 5 GiB (one PUT's limit; no multipart upload). The SDK
 * retries a failed request a few times; a store down for longer fails the call.
 *
 * <p>Failure story: the MinIO behind {@code --s3-endpoint} is down for maintenance when a restore
 * runs. The SDK's retries are refused too, and {@code holdfast restore} stops with "s3://…: cannot
 * reach S3 at http://minio.internal:9000 (Connection refused)", exit 69; nothing is written.
 */
public final class S3Store implements BackupStore {
    /** The region when none is given: what S3-compatible servers accept. */
    public static final String DEFAULT_REGION = "us-east-1";

    private final String bucket;
    private final String prefix;
    private final URI endpoint;
    private final Path scratch;
    private final S3Client s3;

    private S3Store(String bucket, String prefix, URI endpoint, Path scratch, S3Client s3) {
        this.bucket = bucket;
        this.prefix = prefix;
        this.endpoint = endpoint;
        this.scratch = scratch;
        this.s3 = s3;
    }

    /** Whether {@code target} names an object store ({@code s3://…}). */
    public static boolean isS3(String target) {
        return target.startsWith("s3://");
    }

    /**
     * Opens the store {@code s3://BUCKET/PREFIX} (the prefix may be empty).
     *
     * @param endpoint an S3-compatible server's address, or null for AWS's
     * @param region the region to sign for, or null for {@value #DEFAULT_REGION}
     * @param env where {@code AWS_ACCESS_KEY_ID} and {@code AWS_SECRET_ACCESS_KEY} are read
     * @param scratch a directory for the local copy of an upload
     * @throws InvalidArgumentException for an address that is no {@code s3://BUCKET/…}, or
     *     credentials missing from {@code env}, in one line
     */
    public static S3Store open(String target, URI endpoint, String region, Map<String, String> env, Path scratch) {
        if (!isS3(target)) {
            throw new InvalidArgumentException(target + " is no s3://BUCKET/PREFIX address");
        }
        String rest = target.substring("s3://".length());
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String prefix = slash < 0 ? "" : strip(rest.substring(slash + 1));
        if (bucket.isEmpty()) {
            throw new InvalidArgumentException(target + " names no bucket: give s3://BUCKET/PREFIX");
        }
        String id = env.get("AWS_ACCESS_KEY_ID");
        String secret = env.get("AWS_SECRET_ACCESS_KEY");
        if (id == null || id.isBlank() || secret == null || secret.isBlank()) {
            throw new InvalidArgumentException(target + " needs credentials: set AWS_ACCESS_KEY_ID and"
                    + " AWS_SECRET_ACCESS_KEY in the environment");
        }
        String token = env.get("AWS_SESSION_TOKEN");
        AwsCredentials credentials = token == null || token.isBlank()
                ? AwsBasicCredentials.create(id, secret)
                : AwsSessionCredentials.create(id, secret, token);
        S3ClientBuilder builder = S3Client.builder()
                .region(Region.of(region == null || region.isBlank() ? DEFAULT_REGION : region))
                .credentialsProvider(StaticCredentialsProvider.create(credentials))
                .httpClient(UrlConnectionHttpClient.create())
                // Checksums only where S3 requires them: not every S3-compatible server takes the
                // SDK's newer trailing checksums; the backup carries its own (SHA-256, AES-GCM).
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        if (endpoint != null) {
            builder.endpointOverride(endpoint).forcePathStyle(true);
        }
        return new S3Store(bucket, prefix, endpoint, scratch, builder.build());
    }

    /**
     * Splits {@code s3://BUCKET/PREFIX/NAME} into the store's address and the name.
     *
     * @throws InvalidArgumentException when it names no object
     */
    public static String[] splitObject(String uri) {
        int last = uri.lastIndexOf('/');
        if (!isS3(uri) || last < "s3://".length() || last == uri.length() - 1) {
            throw new InvalidArgumentException(uri + " names no object: give s3://BUCKET/PREFIX/NAME.hfbk");
        }
        return new String[] {uri.substring(0, last), uri.substring(last + 1)};
    }

    private static String strip(String prefix) {
        String p = prefix;
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }

    private String key(String name) {
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    @Override
    public String locate(String name) {
        return "s3://" + bucket + "/" + key(name);
    }

    @Override
    public long put(String name, BackupFile.Writer writer) throws IOException {
        Files.createDirectories(scratch);
        Path copy = Files.createTempFile(scratch, name, ".upload");
        try {
            try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(copy), 1 << 16)) {
                writer.writeTo(out);
            }
            long bytes = Files.size(copy);
            call(name, () -> s3.putObject(b -> b.bucket(bucket).key(key(name)), RequestBody.fromFile(copy)));
            return bytes;
        } finally {
            Files.deleteIfExists(copy);
        }
    }

    @Override
    public void get(String name, Path into) throws IOException {
        call(name, () -> s3.getObject(b -> b.bucket(bucket).key(key(name)), ResponseTransformer.toFile(into)));
    }

    @Override
    public List<String> list(String start) throws IOException {
        List<String> names = new ArrayList<>();
        String from = key(start);
        int cut = prefix.isEmpty() ? 0 : prefix.length() + 1;
        call(start + "*", () -> {
            for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(from))
                    .contents()) {
                String rest = o.key().substring(cut);
                if (!rest.contains("/")) {
                    names.add(rest);
                }
            }
            return null;
        });
        return names;
    }

    @Override
    public void delete(String name) throws IOException {
        call(name, () -> s3.deleteObject(b -> b.bucket(bucket).key(key(name))));
    }

    /** Runs a request; its failure is a {@link BackupStore.Failed} in one line naming {@code name}. */
    private void call(String name, java.util.function.Supplier<?> request) throws Failed {
        try {
            request.get();
        } catch (NoSuchKeyException e) {
            throw new Failed(Failed.Kind.MISSING, "no backup " + locate(name), e);
        } catch (NoSuchBucketException e) {
            throw new Failed(Failed.Kind.MISSING, locate(name) + ": no bucket " + bucket + where(), e);
        } catch (S3Exception e) {
            String said = e.awsErrorDetails() == null
                    ? "HTTP " + e.statusCode()
                    : e.awsErrorDetails().errorCode() + ": "
                            + e.awsErrorDetails().errorMessage();
            if (e.statusCode() == 404) {
                throw new Failed(Failed.Kind.MISSING, "no backup " + locate(name) + " (" + said + ")", e);
            }
            if (e.statusCode() == 401 || e.statusCode() == 403) {
                throw new Failed(Failed.Kind.DENIED, locate(name) + ": access denied (" + said + ")", e);
            }
            throw new Failed(
                    Failed.Kind.UNAVAILABLE, locate(name) + ": S3 answered " + e.statusCode() + " (" + said + ")", e);
        } catch (SdkException e) {
            throw new Failed(
                    Failed.Kind.UNAVAILABLE,
                    locate(name) + ": cannot reach S3" + where() + " (" + Causes.rootMessage(e) + ")",
                    e);
        }
    }

    private String where() {
        return endpoint == null ? "" : " at " + endpoint;
    }

    @Override
    public void close() {
        s3.close();
    }
}
