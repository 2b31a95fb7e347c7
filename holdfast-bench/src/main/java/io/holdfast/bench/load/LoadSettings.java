package io.holdfast.bench.load;

import java.time.Duration;
import java.util.Locale;

/**
 * What a load run does: {@code clients} threads, each with its own {@code LockClient} (its own session and
 * connection) or, with {@code shareClient}, all on one (one session and one connection, as an application's threads
 * share its client), doing acquire+release pairs on {@code locks} locks ({@code client i} uses lock {@code i % locks}; one lock: every
 * client on it, so each pair is a handoff), for {@code warmup} (not measured) and then {@code duration}.
 *
 * @param backend the provider URI, e.g. {@code holdfast://127.0.0.1:4653}
 * @param clients 1..4096
 * @param locks 1..clients
 * @param duration the measured time, 1 s..24 h
 * @param warmup unmeasured time before it, 0..1 h
 * @param acquireWait how long one acquire may wait
 * @param shareClient whether the threads share one client
 */
public record LoadSettings(
        String backend,
        int clients,
        int locks,
        Duration duration,
        Duration warmup,
        Duration acquireWait,
        boolean shareClient) {
    public static final int MAX_CLIENTS = 4096;

    public LoadSettings {
        if (backend == null || backend.isBlank()) {
            throw new IllegalArgumentException("--backend is empty (give a URI such as holdfast://127.0.0.1:4653)");
        }
        if (clients < 1 || clients > MAX_CLIENTS) {
            throw new IllegalArgumentException("--clients must be between 1 and " + MAX_CLIENTS + ", not " + clients);
        }
        if (locks < 1 || locks > clients) {
            throw new IllegalArgumentException(
                    "--locks must be between 1 and the number of clients (" + clients + "), not " + locks);
        }
        if (duration.compareTo(Duration.ofSeconds(1)) < 0 || duration.compareTo(Duration.ofHours(24)) > 0) {
            throw new IllegalArgumentException("--duration must be between 1s and 24h, not " + format(duration));
        }
        if (warmup.isNegative() || warmup.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("--warmup must be between 0s and 1h, not " + format(warmup));
        }
        if (acquireWait.isNegative() || acquireWait.isZero()) {
            throw new IllegalArgumentException("--wait must be positive, not " + format(acquireWait));
        }
    }

    /** Each thread with a client of its own. */
    public LoadSettings(
            String backend, int clients, int locks, Duration duration, Duration warmup, Duration acquireWait) {
        this(backend, clients, locks, duration, warmup, acquireWait, false);
    }

    /** Whether every client works on the same lock: each pair is then a handoff. */
    public boolean contended() {
        return locks == 1 && clients > 1;
    }

    /** "64 clients on 64 locks", "64 clients on one lock", "1 client on 1 lock". */
    public String describe() {
        return clients + (clients == 1 ? " client" : " clients") + " on "
                + (locks == 1 && clients > 1 ? "one lock" : locks + (locks == 1 ? " lock" : " locks"))
                + (shareClient && clients > 1 ? ", one client" : "");
    }

    /**
     * Reads {@code 250ms}, {@code 20s}, {@code 2m}, {@code 1h} or a combination such as {@code 1m30s}.
     *
     * @throws IllegalArgumentException for anything else
     */
    public static Duration parseDuration(String text) {
        String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        Duration total = Duration.ZERO;
        int i = 0;
        if (t.isEmpty()) {
            throw new IllegalArgumentException("a duration such as 20s is needed, not '" + text + "'");
        }
        while (i < t.length()) {
            int start = i;
            while (i < t.length() && Character.isDigit(t.charAt(i)) && t.charAt(i) < 128) {
                i++;
            }
            int unitStart = i;
            while (i < t.length() && t.charAt(i) >= 'a' && t.charAt(i) <= 'z') {
                i++;
            }
            if (start == unitStart || unitStart == i || unitStart - start > 9) {
                throw new IllegalArgumentException("bad duration '" + text + "' (use e.g. 250ms, 20s, 2m, 1h)");
            }
            long n = Long.parseLong(t.substring(start, unitStart));
            total = switch (t.substring(unitStart, i)) {
                case "ms" -> total.plusMillis(n);
                case "s" -> total.plusSeconds(n);
                case "m" -> total.plusMinutes(n);
                case "h" -> total.plusHours(n);
                default -> throw new IllegalArgumentException("bad duration '" + text + "' (units: ms, s, m, h)");
            };
        }
        return total;
    }

    /** {@code 20s}, {@code 250ms}, {@code 1m30s}. */
    public static String format(Duration d) {
        if (d.toMillis() % 1000 != 0) {
            return d.toMillis() + "ms";
        }
        long s = d.toSeconds();
        if (s >= 60 && s % 60 != 0 && s < 3600) {
            return s / 60 + "m" + s % 60 + "s";
        }
        if (s >= 3600 && s % 3600 == 0) {
            return s / 3600 + "h";
        }
        if (s >= 60 && s % 60 == 0) {
            return s / 60 + "m";
        }
        return s + "s";
    }
}
