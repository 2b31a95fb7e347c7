package io.holdfast.jdbc.internal;

import io.holdfast.ClientOptions;
import io.holdfast.internal.DaemonThreads;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listens on PostgreSQL for released locks ({@code LISTEN}; releases send {@code pg_notify(channel,
 * name)}) and wakes this JVM's waiters of that name through {@link Wakeups}, and for the other
 * changes watches follow: a grant or a wait that began or ended ({@link #changedPayload}), a
 * register written ({@link #writtenPayload}); those wake watches only. One listening
 * connection per store and JVM, shared by its clients, opened when the first client needs it and
 * closed with the last. If the connection breaks it is opened again, and every waiter is woken
 * (notifications may have been missed meanwhile). Waiters never depend on it: they poll anyway.
 */
final class PgNotifier {
    private static final Logger log = LoggerFactory.getLogger(PgNotifier.class);
    private static final Map<String, PgNotifier> RUNNING = new HashMap<>();

    /**
     * Marks a payload that is not a released name: no name has control characters, so a client of
     * an older version, which takes every payload for a released name, wakes nobody with it.
     */
    private static final char MARK = '\u001f';

    private final JdbcUri uri;
    private final ClientOptions options;
    private final Wakeups wakeups;
    private final Thread thread;
    private final CountDownLatch listening = new CountDownLatch(1);
    private int users;
    private volatile boolean stopped;

    private PgNotifier(JdbcUri uri, ClientOptions options, Wakeups wakeups) {
        this.uri = uri;
        this.options = options;
        this.wakeups = wakeups;
        this.thread = DaemonThreads.thread(this::run, "holdfast-jdbc-listen-" + uri.channel());
    }

    /** The store's notifier, started if needed; give it back with {@link #release}. */
    static synchronized PgNotifier use(JdbcUri uri, ClientOptions options, Wakeups wakeups) {
        PgNotifier n = RUNNING.get(uri.storeKey());
        if (n == null) {
            n = new PgNotifier(uri, options, wakeups);
            RUNNING.put(uri.storeKey(), n);
            n.thread.start();
        }
        n.users++;
        return n;
    }

    static synchronized void release(PgNotifier n) {
        if (--n.users == 0) {
            RUNNING.remove(n.uri.storeKey(), n);
            n.stopped = true;
            n.thread.interrupt();
        }
    }

    /**
     * Waits until this notifier first listens, at most {@code nanos}; true if it does. What changed
     * before then was not heard, so every waiter and watch was woken at that moment.
     */
    boolean awaitListening(long nanos) throws InterruptedException {
        return listening.await(nanos, TimeUnit.NANOSECONDS);
    }

    private void run() {
        Connection c = null;
        while (!stopped) {
            try {
                if (c == null) {
                    c = Db.dedicated(uri, options);
                    try (Statement s = c.createStatement()) {
                        s.execute("LISTEN \"" + uri.channel() + "\""); // channel: prefix checked by JdbcUri
                    }
                    wakeups.signalAll();
                    listening.countDown();
                }
                PGNotification[] got = c.unwrap(PGConnection.class).getNotifications(1000);
                if (got != null) {
                    for (PGNotification n : got) {
                        dispatch(n.getParameter());
                    }
                }
            } catch (SQLException | RuntimeException e) {
                log.debug("jdbc: the LISTEN connection failed; opening it again", e);
                closeQuietly(c);
                c = null;
                try {
                    Thread.sleep(500);
                } catch (InterruptedException stop) {
                    break;
                }
            }
        }
        closeQuietly(c);
    }

    /** The payload that tells of a change of lock {@code name} that freed nothing. */
    static String changedPayload(String name) {
        return MARK + "L" + name;
    }

    /** The payload that tells of a write of register {@code key}. */
    static String writtenPayload(String key) {
        return MARK + "R" + key;
    }

    private void dispatch(String payload) {
        if (payload.length() < 2 || payload.charAt(0) != MARK) {
            wakeups.signal(payload); // released or revoked
        } else if (payload.charAt(1) == 'L') {
            wakeups.changed(payload.substring(2));
        } else if (payload.charAt(1) == 'R') {
            wakeups.written(payload.substring(2));
        }
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                // closing a broken connection
            }
        }
    }
}
