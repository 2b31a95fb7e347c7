package io.holdfast.jdbc.internal;

import io.holdfast.InvalidArgumentException;
import io.holdfast.internal.Redaction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A Holdfast JDBC URI taken apart: the JDBC URL the driver gets (with every {@code holdfast.*}
 * option removed, and {@code jdbc:mysql:} turned into {@code jdbc:mariadb:} for the MariaDB
 * driver), and the provider's options.
 *
 * <p>Options go where the database's own URL parameters go: after {@code ?}, separated by {@code
 * &} (PostgreSQL, MariaDB), or as {@code ;key=value} segments (H2, which also accepts them after
 * {@code ?}).
 *
 * @param jdbcUrl the URL for the driver
 * @param dialect its database
 * @param mode {@code table} (the default) or {@code advisory} (PostgreSQL only)
 * @param tablePrefix prefix of the table and sequence names
 * @param poolSize the most connections one client opens
 * @param createSchema whether to create the tables on first use
 */
public record JdbcUri(
        String jdbcUrl, Dialect dialect, Mode mode, String tablePrefix, int poolSize, boolean createSchema) {
    /** How locks are kept. */
    public enum Mode {
        /** Rows in a lock table: leases on the database's clock, fencing sequence. */
        TABLE,
        /** PostgreSQL session-level advisory locks on one connection per client: no table. */
        ADVISORY
    }

    static final String OPTION = "holdfast.";
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,39}");
    private static final int MAX_POOL = 64;

    /** Parses a URI; does no I/O. */
    public static JdbcUri parse(String uri) {
        if (uri == null || uri.isBlank()) {
            throw new InvalidArgumentException("the URI must not be empty");
        }
        Dialect dialect = Dialect.of(uri);
        Map<String, String> options = new LinkedHashMap<>();
        String url = uri;
        int q = url.indexOf('?');
        if (q >= 0) {
            List<String> kept = new ArrayList<>();
            for (String part : url.substring(q + 1).split("&", -1)) {
                if (!take(part, options, uri)) {
                    kept.add(part);
                }
            }
            url = url.substring(0, q) + (kept.isEmpty() ? "" : "?" + String.join("&", kept));
        }
        if (dialect == Dialect.H2) {
            String[] parts = url.split(";", -1);
            StringBuilder kept = new StringBuilder(parts[0]);
            for (int i = 1; i < parts.length; i++) {
                if (!take(parts[i], options, uri)) {
                    kept.append(';').append(parts[i]);
                }
            }
            url = kept.toString();
        }
        if (url.startsWith("jdbc:mysql:")) {
            url = "jdbc:mariadb:" + url.substring("jdbc:mysql:".length());
        }
        String rest = url.substring(url.indexOf(':', 5) + 1);
        if (rest.isBlank()) {
            throw new InvalidArgumentException("the JDBC URL names no database: " + Redaction.uri(uri));
        }
        Mode mode = Mode.TABLE;
        String prefix = "holdfast_";
        int pool = 4;
        boolean create = true;
        for (Map.Entry<String, String> e : options.entrySet()) {
            String value = e.getValue();
            switch (e.getKey()) {
                case "mode" ->
                    mode = switch (value) {
                        case "table" -> Mode.TABLE;
                        case "advisory" -> Mode.ADVISORY;
                        default ->
                            throw new InvalidArgumentException(
                                    "holdfast.mode must be 'table' or 'advisory', not '" + value + "'");
                    };
                case "tablePrefix" -> {
                    if (!PREFIX.matcher(value).matches()) {
                        throw new InvalidArgumentException(
                                "holdfast.tablePrefix must be 1 to 40 letters, digits or '_', "
                                        + "not starting with a digit, not '" + value + "'");
                    }
                    prefix = value;
                }
                case "poolSize" -> pool = poolSize(value);
                case "createSchema" -> create = bool("holdfast.createSchema", value);
                default ->
                    throw new InvalidArgumentException(
                            "unknown option holdfast." + e.getKey()
                                    + " (known: holdfast.mode, holdfast.tablePrefix, holdfast.poolSize, holdfast.createSchema)");
            }
        }
        if (mode == Mode.ADVISORY && dialect != Dialect.POSTGRESQL) {
            throw new InvalidArgumentException("holdfast.mode=advisory needs PostgreSQL, not " + dialect);
        }
        return new JdbcUri(url, dialect, mode, prefix, pool, create);
    }

    private static boolean take(String part, Map<String, String> options, String uri) {
        if (!part.startsWith(OPTION)) {
            return false;
        }
        int eq = part.indexOf('=');
        if (eq < 0) {
            throw new InvalidArgumentException(
                    "option " + part + " has no value (holdfast.key=value) in " + Redaction.uri(uri));
        }
        String key = part.substring(OPTION.length(), eq);
        if (options.put(key, part.substring(eq + 1)) != null) {
            throw new InvalidArgumentException("option holdfast." + key + " is given twice in " + Redaction.uri(uri));
        }
        return true;
    }

    private static int poolSize(String value) {
        try {
            int n = Integer.parseInt(value);
            if (n >= 1 && n <= MAX_POOL) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new InvalidArgumentException(
                "holdfast.poolSize must be a number from 1 to " + MAX_POOL + ", not '" + value + "'");
    }

    private static boolean bool(String what, String value) {
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new InvalidArgumentException(what + " must be true or false, not '" + value + "'");
        };
    }

    /** The channel PostgreSQL notifications of released locks travel on. */
    String channel() {
        return tablePrefix + "released";
    }

    /** Identifies the store (URL and tables) within this JVM, for sharing wake-ups between clients. */
    String storeKey() {
        return jdbcUrl + "#" + tablePrefix + "#" + mode;
    }

    @Override
    public String toString() {
        return "JdbcUri[" + redacted() + ", " + mode + ", prefix " + tablePrefix + "]";
    }

    /** The URL without password values, for messages. */
    public String redacted() {
        return Redaction.uri(jdbcUrl);
    }
}
