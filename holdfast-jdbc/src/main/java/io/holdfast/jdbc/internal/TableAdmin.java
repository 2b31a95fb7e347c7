package io.holdfast.jdbc.internal;

import io.holdfast.Admin;
import io.holdfast.HolderInfo;
import io.holdfast.LockInfo;
import io.holdfast.LockMode;
import io.holdfast.WaiterInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The operator calls of the lock-table mode. Reads are not one snapshot: a lock described while it
 * changes hands may show the old holder and the new one's waiter record, never two exclusive live
 * holders (the table cannot hold them). Times come from the database's clock.
 */
final class TableAdmin implements Admin {
    private final TableBackend backend;
    private final Db db;

    TableAdmin(TableBackend backend) {
        this.backend = backend;
        this.db = backend.db();
    }

    @Override
    public List<LockInfo> locks(String prefix, int limit) {
        return db.call("listing locks", c -> {
            List<String> names = new ArrayList<>();
            String like = escapeLike(prefix) + "%";
            try (PreparedStatement ps = db.prepare(c, backend.statements().sql("listNames"))) {
                ps.setString(1, like);
                ps.setString(2, like);
                ps.setInt(3, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        names.add(rs.getString(1));
                    }
                }
            }
            List<LockInfo> out = new ArrayList<>();
            for (String name : names) {
                describe(c, name).ifPresent(out::add);
            }
            return out;
        });
    }

    @Override
    public Optional<LockInfo> describe(String name) {
        return db.call("describing " + name, c -> describe(c, name));
    }

    private Optional<LockInfo> describe(Connection c, String name) throws SQLException {
        List<HolderInfo> holders = new ArrayList<>();
        boolean semaphore = false;
        int maxPermits = 1;
        try (PreparedStatement ps = db.prepare(c, backend.statements().sql("describeHolders"))) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    LockMode mode = LockMode.valueOf(rs.getString(3));
                    semaphore = mode == LockMode.PERMITS;
                    maxPermits = rs.getInt(5);
                    holders.add(new HolderInfo(
                            rs.getString(1),
                            rs.getString(2),
                            mode,
                            rs.getInt(4),
                            rs.getLong(6),
                            1,
                            Duration.ofMillis(Math.max(0, rs.getLong(7))),
                            rs.getBoolean(9) ? Duration.ofMillis(Math.max(0, rs.getLong(8))) : null));
                }
            }
        }
        List<WaiterInfo> waiters = new ArrayList<>();
        try (PreparedStatement ps = db.prepare(c, backend.statements().sql("describeWaiters"))) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    LockMode mode = LockMode.valueOf(rs.getString(3));
                    if (holders.isEmpty()) {
                        semaphore = mode == LockMode.PERMITS;
                        maxPermits = rs.getInt(5);
                    }
                    waiters.add(new WaiterInfo(
                            rs.getString(1),
                            rs.getString(2),
                            mode,
                            rs.getInt(4),
                            Duration.ofMillis(Math.max(0, rs.getLong(6))),
                            Duration.ofMillis(Math.max(0, rs.getLong(7)))));
                }
            }
        }
        if (holders.isEmpty() && waiters.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new LockInfo(name, semaphore, maxPermits, holders, waiters));
    }

    @Override
    public int revoke(String name) {
        return db.call("revoking " + name, c -> {
            int n = backend.statements().update(c, "revoke", name);
            backend.revoked(c, name);
            return n;
        });
    }

    @Override
    public boolean isCurrentHolder(String name, long fencingToken) {
        return db.call("checking a token of " + name, c -> {
            try (PreparedStatement ps = db.prepare(c, backend.statements().sql("isCurrentHolder"))) {
                ps.setString(1, name);
                ps.setLong(2, fencingToken);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next();
                }
            }
        });
    }

    /** A LIKE pattern matching {@code s} literally, with '!' as the escape character. */
    static String escapeLike(String s) {
        return s.replace("!", "!!").replace("%", "!%").replace("_", "!_");
    }
}
