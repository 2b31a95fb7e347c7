package io.holdfast.examples.coupons;

import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The database and the lock service the demo's instances share: those {@link CouponsDemo.Options} name, or
 * an H2 database served over TCP on loopback (in memory) and a single Holdfast node (temporary data
 * directory) started here. Closing it stops and deletes what it started, in reverse order.
 */
final class Infrastructure implements AutoCloseable {
    private final List<AutoCloseable> closers = new ArrayList<>();
    private String instanceDbUrl;
    private String driverDbUrl;
    private String dbUser = "";
    private String dbPassword = "";
    private String holdfastUri;

    static Infrastructure start(CouponsDemo.Options o, PrintWriter out) throws IOException {
        Infrastructure infra = new Infrastructure();
        boolean ok = false;
        try {
            infra.startDatabase(o, out);
            infra.startHoldfast(o, out);
            ok = true;
            return infra;
        } finally {
            if (!ok) {
                infra.close();
            }
        }
    }

    private void startDatabase(CouponsDemo.Options o, PrintWriter out) throws IOException {
        if (o.dbUrl() != null) {
            instanceDbUrl = o.dbUrl();
            driverDbUrl = o.dbUrl();
            dbUser = o.dbUser() == null ? "" : o.dbUser();
            dbPassword = o.dbPassword() == null ? "" : o.dbPassword();
            try (Connection c = connect()) {
                out.printf(
                        "database: %s (%s %s)%n",
                        o.dbUrl(),
                        c.getMetaData().getDatabaseProductName(),
                        c.getMetaData().getDatabaseProductVersion());
            } catch (SQLException e) {
                throw new IllegalStateException("cannot connect to " + o.dbUrl() + ": " + e.getMessage(), e);
            }
            return;
        }
        String name = "coupons_" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
        driverDbUrl = "jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000";
        try {
            // Keeps the in-memory database alive for the whole demo.
            Connection keep = DriverManager.getConnection(driverDbUrl);
            closers.add(keep);
            int port = freePort();
            org.h2.tools.Server tcp = org.h2.tools.Server.createTcpServer(
                            "-tcpPort", Integer.toString(port), "-tcpDaemon")
                    .start();
            closers.add(tcp::stop);
            instanceDbUrl = "jdbc:h2:tcp://127.0.0.1:" + port + "/mem:" + name + ";LOCK_TIMEOUT=10000";
            out.printf(
                    "database: H2 %s in memory, served on 127.0.0.1:%d%n",
                    keep.getMetaData().getDatabaseProductVersion(), port);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot start the H2 database: " + e.getMessage(), e);
        }
    }

    private void startHoldfast(CouponsDemo.Options o, PrintWriter out) throws IOException {
        if (o.holdfastUri() != null) {
            holdfastUri = o.holdfastUri();
            out.printf("lock service: %s%n", holdfastUri);
            return;
        }
        Path data = Files.createTempDirectory("holdfast-coupons-");
        closers.add(() -> deleteTree(data));
        HoldfastServer server;
        try {
            server = HoldfastServer.start(ServerConfig.single(data, "127.0.0.1", freePort(), freePort(), -1));
        } catch (StartupException e) {
            throw new IllegalStateException("cannot start a Holdfast node: " + e.getMessage(), e);
        }
        closers.add(server);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!server.isLeader()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the Holdfast node did not become leader within 30 s");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting the Holdfast node", e);
            }
        }
        holdfastUri = "holdfast://127.0.0.1:" + server.clientPort();
        out.printf("lock service: a Holdfast node on %s (started here)%n", holdfastUri);
    }

    Connection connect() throws SQLException {
        return dbUser.isEmpty()
                ? DriverManager.getConnection(driverDbUrl)
                : DriverManager.getConnection(driverDbUrl, dbUser, dbPassword);
    }

    String instanceDbUrl() {
        return instanceDbUrl;
    }

    String dbUser() {
        return dbUser;
    }

    String dbPassword() {
        return dbPassword;
    }

    String holdfastUri() {
        return holdfastUri;
    }

    @Override
    public void close() {
        for (int i = closers.size() - 1; i >= 0; i--) {
            try {
                closers.get(i).close();
            } catch (Exception ignored) {
                // best effort: the demo is over
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
