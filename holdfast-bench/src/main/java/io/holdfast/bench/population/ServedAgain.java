package io.holdfast.bench.population;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How long each session of a crowd went unserved around one moment (a leader's SIGKILL), from its heartbeats as
 * they leave ({@link #sent}) and are acknowledged ({@link #acknowledged}).
 *
 * <p>A session is unserved from the sending of a heartbeat that is not acknowledged until the acknowledgement of
 * that heartbeat or of a later one of the same session: a heartbeat that failed (the home was killed, a member
 * answered UNAVAILABLE) is sent again by the session within 100 ms, and the wait runs on across those re-sends and
 * the transport's own retries. Around a window [the moment, the moment + its length], each session's longest such
 * wait among those that overlap the window is kept: in flight at the moment, or begun within the window.
 *
 * <p>Guaranteed: {@link #mark} starts a new window and forgets the last one's figures, and a heartbeat reported
 * while it runs counts in one window or the other, never half in each (each session's figures are reset under its
 * own lock when it is next seen). Not guaranteed: anything about heartbeats the crowd did not report.
 */
final class ServedAgain {
    private static final long NONE = Long.MIN_VALUE;

    /** One window: when it starts and ends (nanoTime), numbered so a session's figures know which they are for. */
    private record Window(int number, long from, long until) {}

    /** One session's heartbeats. */
    private static final class Beats {
        long pendingSince = NONE;
        int window = -1;
        long worstNanos = -1;
        boolean seen;

        /** Resets the figures the first time this session is looked at in window {@code w}. */
        void enter(Window w) {
            if (window != w.number) {
                window = w.number;
                worstNanos = -1;
                seen = pendingSince != NONE && pendingSince <= w.from;
            }
        }
    }

    private final ConcurrentHashMap<String, Beats> sessions = new ConcurrentHashMap<>();
    private volatile Window window = new Window(0, Long.MAX_VALUE, Long.MAX_VALUE);

    /** A heartbeat of the session leaves now. */
    void sent(String session) {
        Beats b = sessions.computeIfAbsent(session, k -> new Beats());
        synchronized (b) {
            long now = System.nanoTime();
            Window w = window;
            b.enter(w);
            if (b.pendingSince == NONE) {
                b.pendingSince = now;
            }
            if (now >= w.from && now <= w.until) {
                b.seen = true;
            }
        }
    }

    /** A heartbeat of the session was acknowledged now. */
    void acknowledged(String session) {
        Beats b = sessions.get(session);
        if (b == null) {
            return;
        }
        synchronized (b) {
            long now = System.nanoTime();
            Window w = window;
            b.enter(w);
            if (b.pendingSince != NONE && now >= w.from && b.pendingSince <= w.until) {
                b.worstNanos = Math.max(b.worstNanos, now - b.pendingSince);
                b.seen = true;
            }
            b.pendingSince = NONE;
        }
    }

    /** Starts a window now, {@code length} long. */
    void mark(Duration length) {
        long now = System.nanoTime();
        window = new Window(window.number + 1, now, now + length.toNanos());
    }

    /** When the current window ends (nanoTime). */
    long windowEnd() {
        return window.until;
    }

    /** How many sessions are waiting now for a heartbeat sent before the current window's end. */
    int openWaits() {
        Window w = window;
        int open = 0;
        for (Beats b : sessions.values()) {
            synchronized (b) {
                if (b.pendingSince != NONE && b.pendingSince <= w.until) {
                    open++;
                }
            }
        }
        return open;
    }

    /** The window's figures: the sessions' longest waits in ms, how many were still waiting, how many were seen. */
    record Figures(long[] gapsMillis, int unanswered, int seen) {}

    /** The current window's figures, as of now (a wait still open counts until now, and as unanswered). */
    Figures figures() {
        Window w = window;
        long now = System.nanoTime();
        List<Long> gaps = new ArrayList<>();
        int unanswered = 0;
        for (Beats b : sessions.values()) {
            synchronized (b) {
                b.enter(w);
                if (!b.seen) {
                    continue;
                }
                long worst = b.worstNanos;
                if (b.pendingSince != NONE && b.pendingSince <= w.until) {
                    unanswered++;
                    worst = Math.max(worst, now - b.pendingSince);
                }
                gaps.add(worst / 1_000_000);
            }
        }
        return new Figures(gaps.stream().mapToLong(Long::longValue).toArray(), unanswered, gaps.size());
    }
}
