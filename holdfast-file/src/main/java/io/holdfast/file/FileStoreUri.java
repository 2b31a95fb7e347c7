package io.holdfast.file;

import io.holdfast.InvalidArgumentException;
import io.holdfast.internal.UriDurations;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * A parsed {@code file:} URI: {@code file:///absolute/dir[?option=value&...]}.
 *
 * @param directory the store's directory, absolute
 * @param create whether to create the directory when it is missing ({@code create}, default true)
 * @param fsync whether every new fencing token is forced to disk before it is handed out
 *     ({@code fsync}, default true)
 * @param maxPoll the longest pause between two attempts of a waiting acquire ({@code maxPoll},
 *     default 100ms, 1ms to 10s)
 */
record FileStoreUri(Path directory, boolean create, boolean fsync, Duration maxPoll) {
    private static final Duration DEFAULT_MAX_POLL = Duration.ofMillis(100);
    private static final Duration MIN_POLL = Duration.ofMillis(1);
    private static final Duration MAX_POLL = Duration.ofSeconds(10);

    /** Whether the URI is one of ours: its scheme is {@code file}. No I/O. */
    static boolean accepts(String uri) {
        return uri != null && uri.regionMatches(true, 0, "file:", 0, 5);
    }

    /**
     * Parses the URI.
     *
     * @throws InvalidArgumentException naming what is wrong
     */
    static FileStoreUri parse(String uri) {
        if (!accepts(uri)) {
            throw new InvalidArgumentException("not a file URI: '" + uri + "' (expected file:///absolute/directory)");
        }
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            throw new InvalidArgumentException("malformed file URI '" + uri + "': " + e.getMessage(), e);
        }
        if (parsed.isOpaque()) {
            throw new InvalidArgumentException(
                    "file URI '" + uri + "' has a relative path; give an absolute one, as in file:///var/lib/holdfast");
        }
        String host = parsed.getRawAuthority();
        if (host != null && !host.isEmpty() && !host.equalsIgnoreCase("localhost")) {
            throw new InvalidArgumentException("file URI '" + uri + "' names the host '" + host
                    + "'; only local paths are supported (mount a shared file system and give its local path)");
        }
        if (parsed.getRawFragment() != null) {
            throw new InvalidArgumentException("file URI '" + uri + "' must not have a fragment (#...)");
        }
        String path = parsed.getPath();
        if (path == null || path.isEmpty() || !path.startsWith("/")) {
            throw new InvalidArgumentException("file URI '" + uri + "' has no absolute directory path");
        }
        Path directory;
        try {
            directory = Path.of(path).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new InvalidArgumentException("file URI '" + uri + "' has an invalid path: " + e.getMessage(), e);
        }
        boolean create = true;
        boolean fsync = true;
        Duration maxPoll = DEFAULT_MAX_POLL;
        String query = parsed.getRawQuery();
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&", -1)) {
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new InvalidArgumentException(
                            "file URI option '" + pair + "' is not of the form name=value (in '" + uri + "')");
                }
                String key = decode(pair.substring(0, eq));
                String value = decode(pair.substring(eq + 1));
                switch (key) {
                    case "create" -> create = bool(key, value);
                    case "fsync" -> fsync = bool(key, value);
                    case "maxPoll" -> maxPoll = UriDurations.parse(uri, key, value, MIN_POLL, MAX_POLL);
                    default ->
                        throw new InvalidArgumentException("unknown file URI option '" + key
                                + "' (known: create=true|false, fsync=true|false, maxPoll=DURATION)");
                }
            }
        }
        return new FileStoreUri(directory, create, fsync, maxPoll);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private static boolean bool(String key, String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default ->
                throw new InvalidArgumentException(
                        "file URI option " + key + " must be true or false, not '" + value + "'");
        };
    }
}
