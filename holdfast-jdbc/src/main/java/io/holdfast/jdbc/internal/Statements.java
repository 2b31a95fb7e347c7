package io.holdfast.jdbc.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;

/** The lock-table mode's named statements ({@code statements.sql}) run on a connection. */
final class Statements {
    private final Db db;
    private final Map<String, String> sql;

    Statements(Db db, Map<String, String> sql) {
        this.db = db;
        this.sql = sql;
    }

    /** The statement of this name. */
    String sql(String name) {
        return sql.get(name);
    }

    /** Runs a named update with string and long parameters; returns the update count. */
    int update(Connection c, String statement, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(c, statement, params)) {
            return ps.executeUpdate();
        }
    }

    /** A named statement with its string and long parameters bound. */
    PreparedStatement prepare(Connection c, String statement, Object... params) throws SQLException {
        PreparedStatement ps = db.prepare(c, sql.get(statement));
        try {
            for (int i = 0; i < params.length; i++) {
                if (params[i] instanceof Long l) {
                    ps.setLong(i + 1, l);
                } else {
                    ps.setString(i + 1, (String) params[i]);
                }
            }
            return ps;
        } catch (SQLException e) {
            ps.close();
            throw e;
        }
    }

    /** The first column of a named query's first row; null when it has no row or the value is NULL. */
    Long queryNullableLong(Connection c, String statement, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(c, statement, params);
                ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                return null;
            }
            long value = rs.getLong(1);
            return rs.wasNull() ? null : value;
        }
    }

    /** The first column of a named query's first row, which it must have. */
    long queryLong(Connection c, String statement, Object... params) throws SQLException {
        Long value = queryNullableLong(c, statement, params);
        if (value == null) {
            throw new SQLException(statement + " answered no value");
        }
        return value;
    }
}
