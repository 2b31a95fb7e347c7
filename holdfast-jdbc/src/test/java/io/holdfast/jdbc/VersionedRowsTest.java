package io.holdfast.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ConflictException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.RetryPolicy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The version-column helper against a real H2 database, several connections at once. */
class VersionedRowsTest {
    private final String url = "jdbc:h2:mem:versioned-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    private final List<Connection> connections = new ArrayList<>();
    private final List<Duration> pauses = new CopyOnWriteArrayList<>();
    private final AtomicLong now = new AtomicLong();
    private VersionedRows accounts;

    @BeforeEach
    void createTables() throws SQLException {
        try (Statement s = connect().createStatement()) {
            s.execute("CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL, version BIGINT NOT NULL)");
            s.execute("CREATE TABLE audit (line VARCHAR(100))");
            s.execute("INSERT INTO accounts VALUES (1, 0, 0)");
        }
        // Virtual time: every pause moves the clock on by its length.
        accounts = VersionedRows.of("accounts", "id", "version", now::get, pause -> {
            pauses.add(pause);
            now.addAndGet(pause.toNanos());
        });
    }

    @AfterEach
    void close() throws SQLException {
        for (Connection c : connections) {
            c.close();
        }
    }

    private Connection connect() throws SQLException {
        Connection c = DriverManager.getConnection(url);
        connections.add(c);
        return c;
    }

    private static long balance(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT balance FROM accounts WHERE id = 1")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static int auditLines(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM audit")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void anUpdateAppliesOnlyAtTheVersionItRead() throws SQLException {
        Connection c = connect();
        assertThat(accounts.update(c, 1, 0, "balance = ?", 10L)).isEqualTo(1);
        assertThat(balance(c)).isEqualTo(10);

        assertThatThrownBy(() -> accounts.update(c, 1, 0, "balance = ?", 99L))
                .isInstanceOfSatisfying(ConflictException.class, e -> {
                    assertThat(e.currentVersion()).isEqualTo(1);
                    assertThat(e.getMessage()).isEqualTo("accounts row 1 is at version 1, not 0");
                });
        assertThat(balance(c)).as("the balance after a stale update").isEqualTo(10);
        assertThat(accounts.version(c, 1)).isEqualTo(1);

        assertThatThrownBy(() -> accounts.update(c, 2, 0, "balance = ?", 1L))
                .as("a row that does not exist")
                .isInstanceOfSatisfying(
                        ConflictException.class,
                        e -> assertThat(e.currentVersion()).isZero());
        assertThat(accounts.version(c, 2)).isZero();
    }

    @Test
    void concurrentIncrementsThroughRetriesLoseNothing() throws Exception {
        VersionedRows realTime = VersionedRows.of("accounts", "id", "version");
        RetryPolicy patient =
                new RetryPolicy(Duration.ofMillis(1), Duration.ofMillis(5), 2.0, 1.0, 1000, Duration.ofMinutes(1));
        int threads = 4;
        int increments = 25;
        AtomicInteger conflicts = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Connection c = connect();
                done.add(pool.submit(() -> {
                    for (int i = 0; i < increments; i++) {
                        realTime.inTransaction(
                                c,
                                patient,
                                attempt -> {
                                    long version = realTime.version(c, 1);
                                    long balance = balance(c);
                                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit VALUES (?)")) {
                                        ps.setString(1, "+1 at version " + version);
                                        ps.executeUpdate();
                                    }
                                    return realTime.update(c, 1, version, "balance = ?", balance + 1);
                                },
                                conflict -> conflicts.incrementAndGet());
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        Connection c = connect();
        assertThat(balance(c))
                .as("the balance after %d x %d increments", threads, increments)
                .isEqualTo(100);
        assertThat(accounts.version(c, 1)).isEqualTo(100);
        assertThat(auditLines(c))
                .as("audit lines: the conflicting attempts' lines were rolled back")
                .isEqualTo(100);
    }

    @Test
    void retriesAreBoundedByThePolicyAndEachConflictIsRolledBack() throws SQLException {
        Connection c = connect();
        Connection other = connect();
        RetryPolicy three =
                new RetryPolicy(Duration.ofMillis(10), Duration.ofMillis(40), 2.0, 0.0, 3, Duration.ofMinutes(1));
        List<Long> seen = new ArrayList<>();
        AtomicInteger attempts = new AtomicInteger();
        assertThatThrownBy(() -> accounts.inTransaction(
                        c,
                        three,
                        attempt -> {
                            attempts.incrementAndGet();
                            try (Statement s = c.createStatement()) {
                                s.executeUpdate("INSERT INTO audit VALUES ('attempt " + attempt + "')");
                            }
                            long read = accounts.version(c, 1);
                            accounts.update(
                                    other, 1, accounts.version(other, 1), "balance = balance + 1"); // someone else wins
                            return accounts.update(c, 1, read, "balance = ?", 0L);
                        },
                        conflict -> seen.add(conflict.currentVersion())))
                .isInstanceOfSatisfying(
                        ConflictException.class,
                        e -> assertThat(e.currentVersion()).isEqualTo(3));
        assertThat(attempts).as("attempts").hasValue(3);
        assertThat(seen)
                .as("conflicts told to the listener (the last one is thrown)")
                .containsExactly(1L, 2L);
        assertThat(pauses).as("backoff between attempts").containsExactly(Duration.ofMillis(10), Duration.ofMillis(20));
        assertThat(auditLines(other))
                .as("audit lines of the rolled-back attempts")
                .isZero();
        assertThat(c.getAutoCommit()).as("auto-commit restored").isTrue();
    }

    @Test
    void theTimeLimitOfThePolicyEndsTheRetries() throws SQLException {
        Connection c = connect();
        RetryPolicy oneSecond =
                new RetryPolicy(Duration.ofMillis(400), Duration.ofMillis(400), 1.0, 0.0, 1000, Duration.ofSeconds(1));
        AtomicInteger attempts = new AtomicInteger();
        assertThatThrownBy(() -> accounts.inTransaction(c, oneSecond, attempt -> {
                    attempts.incrementAndGet();
                    return accounts.update(c, 1, 7, "balance = ?", 1L);
                }))
                .isInstanceOf(ConflictException.class);
        assertThat(attempts).as("attempts within 1 s at 400 ms apart").hasValue(3);
    }

    @Test
    void otherFailuresAreNotRetriedAndRollBack() throws SQLException {
        Connection c = connect();
        AtomicInteger attempts = new AtomicInteger();
        assertThatThrownBy(() -> accounts.inTransaction(c, RetryPolicy.defaults(), attempt -> {
                    attempts.incrementAndGet();
                    accounts.update(c, 1, 0, "balance = ?", 5L);
                    try (Statement s = c.createStatement()) {
                        return s.executeUpdate("INSERT INTO no_such_table VALUES (1)");
                    }
                }))
                .isInstanceOf(SQLException.class);
        assertThat(attempts).hasValue(1);
        assertThat(balance(c))
                .as("the update before the failure was rolled back")
                .isZero();
        assertThat(pauses).isEmpty();
    }

    @Test
    void namesThatAreNotIdentifiersAndEmptyAssignmentsAreRefused() throws SQLException {
        assertThatThrownBy(() -> VersionedRows.of("accounts; DROP TABLE x", "id", "version"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("table");
        assertThatThrownBy(() -> VersionedRows.of("accounts", "id", null)).isInstanceOf(InvalidArgumentException.class);
        assertThat(VersionedRows.of("public.accounts", "id", "version")).hasToString("VersionedRows[public.accounts]");
        Connection c = connect();
        assertThatThrownBy(() -> accounts.update(c, 1, 0, " ")).isInstanceOf(InvalidArgumentException.class);
        assertThat(accounts.version(c, 1)).isZero();
    }
}
