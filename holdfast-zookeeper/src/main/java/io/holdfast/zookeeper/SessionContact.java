package io.holdfast.zookeeper;

import io.holdfast.Ticker;
import java.util.concurrent.TimeUnit;

/**
 * Until when this client's ZooKeeper session is sure to live, by the server's own rule: the server
 * expires a session once it has heard nothing from the client for the negotiated session timeout,
 * so the session lives at least that timeout past the <em>sending</em> of the latest request the
 * server answered (the server read it after it was sent). {@link #validUntilNanos()} is that
 * moment less a margin for clock rate drift (the server counts the timeout on its clock, this on the
 * client's injected {@link Ticker}) and for the delay of whoever acts on it.
 *
 * <p><b>What it guarantees.</b> Contact is counted only for the session it was made in: an answer
 * on a new session does not vouch for the old one. Once the moment has passed ({@link #lapsed()}
 * says so once), a later answer to a request sent before then does not make it good again: only a
 * request sent after the lapse does, and by then every grant of the session has been given up.
 *
 * <p><b>What it does not.</b> It sends nothing: {@link SessionWatch} sends the probes and reports
 * the lapse. Its answers are only as good as the probes are frequent.
 *
 * <p><b>A failure story.</b> The client's packets stop reaching the server while the server's keep
 * reaching the client (watch events): ZooKeeper's client hears enough not to disconnect, but no
 * probe is answered, so the moment passes a margin before the server can expire the session, and
 * the client gives up its grants before anybody else can be granted them.
 */
final class SessionContact {
    /** The margin is a tenth of the timeout, and at least this. */
    static final long MIN_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final Ticker ticker;
    private long session;
    private long timeoutNanos;
    private long lastSentNanos;
    private boolean known;
    private boolean lapsed;
    private long lapsedAtNanos;

    SessionContact(Ticker ticker) {
        this.ticker = ticker;
    }

    /** The margin taken off a session timeout: a tenth of it, at least {@link #MIN_MARGIN_NANOS}. */
    static long marginNanos(long timeoutNanos) {
        return Math.max(MIN_MARGIN_NANOS, timeoutNanos / 10);
    }

    /**
     * A session begins (or a new one replaced the last).
     *
     * @param timeoutMillis the timeout the server negotiated
     * @param sentNanos a moment known to precede the server's creating it, or {@code null} if none
     *     is known: then the session vouches for nothing until its first answer
     */
    synchronized void begin(long session, long timeoutMillis, Long sentNanos) {
        this.session = session;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        this.known = sentNanos != null;
        this.lastSentNanos = sentNanos != null ? sentNanos : ticker.nanos();
        this.lapsed = false;
    }

    /**
     * {@link #begin} for a session other than the one counted for now, of which nothing is known
     * yet; nothing for the same session.
     */
    synchronized void beginIfNew(long session, long timeoutMillis) {
        if (session != this.session) {
            begin(session, timeoutMillis, null);
        }
    }

    /** The server answered a request of {@code session} that was sent at {@code sentNanos}. */
    synchronized void answered(long session, long sentNanos) {
        if (session != this.session) {
            return;
        }
        if (lapsed) {
            if (sentNanos - lapsedAtNanos <= 0) {
                return;
            }
            lapsed = false;
            lastSentNanos = sentNanos;
        } else if (!known || sentNanos - lastSentNanos > 0) {
            lastSentNanos = sentNanos;
        }
        known = true;
    }

    /**
     * The moment, on the ticker, until which the server cannot have expired the session: the
     * sending of its latest answered request plus the negotiated timeout, less the margin. Already
     * past while nothing is known of the session, or once it lapsed.
     */
    synchronized long validUntilNanos() {
        if (!known) {
            return lastSentNanos;
        }
        if (lapsed) {
            return lapsedAtNanos;
        }
        return lastSentNanos + timeoutNanos - marginNanos(timeoutNanos);
    }

    /** True once, when the clock first passes {@link #validUntilNanos()} of a known session. */
    synchronized boolean lapsed() {
        if (!known || lapsed) {
            return false;
        }
        long until = lastSentNanos + timeoutNanos - marginNanos(timeoutNanos);
        long now = ticker.nanos();
        if (now - until < 0) {
            return false;
        }
        lapsed = true;
        lapsedAtNanos = now;
        return true;
    }

    /** The negotiated timeout, in milliseconds, for messages. */
    synchronized long timeoutMillis() {
        return TimeUnit.NANOSECONDS.toMillis(timeoutNanos);
    }
}
