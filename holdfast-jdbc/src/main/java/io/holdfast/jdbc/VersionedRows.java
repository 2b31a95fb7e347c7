package io.holdfast.jdbc;

import io.holdfast.ConflictException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.RetryPolicy;
import io.holdfast.Ticker;
import io.holdfast.lease.Retries;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Optimistic locking on the application's own table: the version-column pattern, written once.
 *
 * <pre>{@code
 * VersionedRows campaigns = VersionedRows.of("campaigns", "id", "version");
 * Outcome outcome = campaigns.inTransaction(connection, RetryPolicy.defaults(), attempt -> {
 *     Campaign row = readCampaign(connection, id);          // with its version
 *     ...decide...
 *     campaigns.update(connection, id, row.version(), "redeemed = ?", row.redeemed() + 1);
 *     return Outcome.REDEEMED;
 * });
 * }</pre>
 *
 * <p><b>What it guarantees.</b> {@link #update} is one statement, {@code UPDATE <table> SET
 * <assignments>, <version> = <version> + 1 WHERE <id> = ? AND <version> = ?}: it changes the row
 * only if nobody changed it since the caller read that version, and otherwise throws {@link
 * ConflictException} with the version found (0 if the row does not exist), having changed nothing.
 * {@link #inTransaction} runs each attempt in a transaction of its own, commits it when the attempt
 * returns, rolls it back when it throws, and after a conflict waits as the {@link RetryPolicy} says
 * (exponential backoff with jitter) before the next attempt, within the policy's attempts and time
 * (no attempt starts after {@link RetryPolicy#maxElapsed()}).
 * Any other failure is not retried.
 *
 * <p><b>What it does not guarantee.</b> The version protects only what the attempt read after the
 * version: read the version first, or in the same statement as the data. Every writer of the row
 * must go through the version (a blind {@code UPDATE} elsewhere defeats it). Under heavy contention
 * optimistic attempts can fail repeatedly; the policy bounds them, and the last conflict is thrown.
 *
 * <p><b>A failure story.</b> Two instances read campaign 7 at version 41 with 3 coupons left, and
 * both hand out coupon {@code C0007-000098}. The first update matches and moves the row to 42; the
 * second matches no row, throws {@link ConflictException} (current version 42), its transaction
 * (with the coupon it handed out) rolls back, and its next attempt reads version 42 and takes the
 * next coupon.
 *
 * <p>Table and column names are checked ({@code [A-Za-z_][A-Za-z0-9_]*}, optionally schema-qualified);
 * the assignments are the caller's own SQL, with values bound as parameters.
 */
public final class VersionedRows {
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");

    /** One attempt of a read-decide-write; {@code attempt} counts from 1. */
    @FunctionalInterface
    public interface Attempt<T> {
        T run(int attempt) throws SQLException, InterruptedException;
    }

    /** Waits between attempts; tests pass their own. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(Duration pause) throws InterruptedException;
    }

    private final String table;
    private final String updateSuffix;
    private final String readVersion;
    private final Ticker ticker;
    private final Sleeper sleeper;

    private VersionedRows(String table, String id, String version, Ticker ticker, Sleeper sleeper) {
        this.table = table;
        this.updateSuffix = ", " + version + " = " + version + " + 1 WHERE " + id + " = ? AND " + version + " = ?";
        this.readVersion = "SELECT " + version + " FROM " + table + " WHERE " + id + " = ?";
        this.ticker = ticker;
        this.sleeper = sleeper;
    }

    /**
     * The rows of {@code table}, identified by {@code idColumn} and versioned by {@code
     * versionColumn} (a {@code BIGINT}; new rows start at any version, usually 0 or 1).
     *
     * @throws InvalidArgumentException if a name is not a plain SQL identifier
     */
    public static VersionedRows of(String table, String idColumn, String versionColumn) {
        return of(
                table, idColumn, versionColumn, Ticker.system(), pause -> TimeUnit.NANOSECONDS.sleep(pause.toNanos()));
    }

    static VersionedRows of(String table, String idColumn, String versionColumn, Ticker ticker, Sleeper sleeper) {
        return new VersionedRows(
                identifier("table", table),
                identifier("id column", idColumn),
                identifier("version column", versionColumn),
                ticker,
                sleeper);
    }

    private static String identifier(String what, String name) {
        if (name == null || !IDENTIFIER.matcher(name).matches()) {
            throw new InvalidArgumentException(
                    "the " + what + " must be a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*), not " + name);
        }
        return name;
    }

    /**
     * The row's current version, or 0 if there is no such row.
     *
     * @throws SQLException as the driver reports it
     */
    public long version(Connection c, Object id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(readVersion)) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    /**
     * Sets {@code assignments} (for example {@code "stock = ?, note = ?"}, with {@code values} bound
     * in order) and moves the version on by one, if the row is still at {@code expectedVersion}.
     *
     * @return the row's new version, {@code expectedVersion + 1}
     * @throws ConflictException if the row is at another version or absent; nothing was changed
     * @throws InvalidArgumentException if {@code assignments} is blank
     * @throws SQLException as the driver reports it
     */
    public long update(Connection c, Object id, long expectedVersion, String assignments, Object... values)
            throws SQLException {
        if (assignments == null || assignments.isBlank()) {
            throw new InvalidArgumentException("an update of " + table + " needs at least one assignment");
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + table + " SET " + assignments + updateSuffix)) {
            int i = 0;
            for (Object value : values) {
                ps.setObject(++i, value);
            }
            ps.setObject(++i, id);
            ps.setLong(++i, expectedVersion);
            if (ps.executeUpdate() == 1) {
                return expectedVersion + 1;
            }
        }
        long found = version(c, id);
        throw new ConflictException(
                table + " row " + id + " is at version " + found + ", not " + expectedVersion, found);
    }

    /** {@link #inTransaction(Connection, RetryPolicy, Attempt, Consumer)} without a conflict listener. */
    public <T> T inTransaction(Connection c, RetryPolicy policy, Attempt<T> attempt)
            throws SQLException, InterruptedException {
        return inTransaction(c, policy, attempt, conflict -> {});
    }

    /**
     * Runs {@code attempt} in a transaction of its own on {@code c} until it returns, retrying after a
     * {@link ConflictException} as {@code policy} allows; the connection's auto-commit setting is
     * restored afterwards.
     *
     * @param onConflict told of each conflict that will be retried, after its rollback
     * @return what the successful attempt returned, after its commit
     * @throws ConflictException the last conflict, once the policy allows no further attempt
     * @throws InterruptedException if interrupted while waiting between attempts (rolled back)
     */
    public <T> T inTransaction(
            Connection c, RetryPolicy policy, Attempt<T> attempt, Consumer<ConflictException> onConflict)
            throws SQLException, InterruptedException {
        if (c == null || policy == null || attempt == null || onConflict == null) {
            throw new InvalidArgumentException("inTransaction needs a connection, a policy, an attempt and a listener");
        }
        long started = ticker.nanos();
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            return Retries.of(policy, ticker)
                    .pause(sleeper::sleep)
                    .within(() -> policy.maxElapsed().toNanos() - (ticker.nanos() - started))
                    .onRetry((e, n, pause) -> onConflict.accept((ConflictException) e))
                    .call(
                            n -> {
                                try {
                                    T result = attempt.run(n);
                                    c.commit();
                                    return result;
                                } catch (ConflictException conflict) {
                                    c.rollback();
                                    throw conflict;
                                } catch (SQLException | RuntimeException | InterruptedException | Error e) {
                                    rollbackQuietly(c, e);
                                    throw e;
                                }
                            },
                            e -> e instanceof ConflictException);
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    private static void rollbackQuietly(Connection c, Throwable cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }

    @Override
    public String toString() {
        return "VersionedRows[" + table + "]";
    }
}
