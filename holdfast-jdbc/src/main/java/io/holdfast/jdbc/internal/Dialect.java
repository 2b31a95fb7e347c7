package io.holdfast.jdbc.internal;

import io.holdfast.InvalidArgumentException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The databases the lock-table mode speaks to, each with its SQL in {@code
 * io/holdfast/jdbc/<dialect>/schema.sql} (the documented schema, run on first use) and {@code
 * statements.sql} (named statements). Nothing here builds SQL from user input: the only
 * substitution is the table prefix, which {@link JdbcUri} restricts to letters, digits and '_'.
 */
public enum Dialect {
    POSTGRESQL("postgresql"),
    MARIADB("mariadb"),
    H2("h2");

    private final String resourceName;

    Dialect(String resourceName) {
        this.resourceName = resourceName;
    }

    /** The directory name of its SQL files. */
    public String resourceName() {
        return resourceName;
    }

    /** The dialect of a JDBC URL by its scheme. */
    static Dialect of(String jdbcUrl) {
        if (jdbcUrl.startsWith("jdbc:postgresql:")) {
            return POSTGRESQL;
        }
        if (jdbcUrl.startsWith("jdbc:mariadb:") || jdbcUrl.startsWith("jdbc:mysql:")) {
            return MARIADB;
        }
        if (jdbcUrl.startsWith("jdbc:h2:")) {
            return H2;
        }
        throw new InvalidArgumentException("not a JDBC URL the jdbc provider knows (jdbc:postgresql:, jdbc:mariadb:, "
                + "jdbc:mysql: or jdbc:h2:): " + jdbcUrl);
    }

    /** The schema's statements, with the prefix filled in, in order. */
    List<String> schema(String prefix) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : read("schema.sql").split("\n")) {
            String code = stripComment(line);
            if (code.isBlank()) {
                continue;
            }
            current.append(code).append('\n');
            if (code.stripTrailing().endsWith(";")) {
                String statement = current.toString().strip();
                out.add(statement.substring(0, statement.length() - 1).replace("${p}", prefix));
                current.setLength(0);
            }
        }
        if (!current.toString().isBlank()) {
            throw new IllegalStateException(resourceName + "/schema.sql ends without ';'");
        }
        return out;
    }

    /** The named statements, with the prefix and the database's "now" expression filled in. */
    Map<String, String> statements(String prefix) {
        Map<String, String> raw = new HashMap<>();
        String name = null;
        StringBuilder current = new StringBuilder();
        for (String line : read("statements.sql").split("\n")) {
            if (line.startsWith("-- name: ")) {
                if (name != null) {
                    raw.put(name, current.toString().strip());
                }
                name = line.substring("-- name: ".length()).strip();
                current.setLength(0);
            } else if (name != null && !line.startsWith("--")) {
                current.append(line).append('\n');
            }
        }
        if (name != null) {
            raw.put(name, current.toString().strip());
        }
        String now = raw.get("now");
        if (now == null) {
            throw new IllegalStateException(resourceName + "/statements.sql has no 'now'");
        }
        Map<String, String> out = new HashMap<>();
        raw.forEach((k, v) -> out.put(k, v.replace("${now}", now).replace("${p}", prefix)));
        return out;
    }

    private static String stripComment(String line) {
        int i = line.indexOf("--");
        return i < 0 ? line : line.substring(0, i);
    }

    private String read(String file) {
        String path = "/io/holdfast/jdbc/" + resourceName + "/" + file;
        try (InputStream in = Dialect.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("\r", "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
