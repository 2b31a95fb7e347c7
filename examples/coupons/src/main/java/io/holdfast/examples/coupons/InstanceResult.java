package io.holdfast.examples.coupons;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/**
 * What one instance reports when its requests are done, as one line on its stdout ({@code RESULT k=v ...}):
 * the count of each {@link Outcome}, the optimistic conflicts, the sessions it had to reopen, and two latency
 * histograms in microseconds (every request; redemptions only), HdrHistogram-compressed and Base64-encoded.
 */
record InstanceResult(
        Map<Outcome, Long> outcomes,
        long conflicts,
        long lockWaitMicros,
        long lockHeldMicros,
        long grants,
        int reopened,
        long elapsedMillis,
        Histogram all,
        Histogram redeemed) {

    static final String PREFIX = "RESULT ";

    static Histogram histogram() {
        return new Histogram(3_600_000_000L, 3);
    }

    long count(Outcome o) {
        return outcomes.getOrDefault(o, 0L);
    }

    String encode() {
        StringBuilder b = new StringBuilder(PREFIX);
        for (Outcome o : Outcome.values()) {
            b.append(o.name()).append('=').append(count(o)).append(' ');
        }
        b.append("conflicts=").append(conflicts).append(' ');
        b.append("lockWaitMicros=").append(lockWaitMicros).append(' ');
        b.append("lockHeldMicros=").append(lockHeldMicros).append(' ');
        b.append("grants=").append(grants).append(' ');
        b.append("reopened=").append(reopened).append(' ');
        b.append("elapsedMillis=").append(elapsedMillis).append(' ');
        b.append("all=").append(encode(all)).append(' ');
        b.append("redeemed=").append(encode(redeemed));
        return b.toString();
    }

    /** @throws IllegalArgumentException if the line is not a whole result */
    static InstanceResult decode(String line) {
        if (!line.startsWith(PREFIX)) {
            throw new IllegalArgumentException("not a result line: " + line);
        }
        Map<String, String> kv = new LinkedHashMap<>();
        for (String part : line.substring(PREFIX.length()).trim().split(" ")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                kv.put(part.substring(0, eq), part.substring(eq + 1));
            }
        }
        Map<Outcome, Long> outcomes = new EnumMap<>(Outcome.class);
        for (Outcome o : Outcome.values()) {
            outcomes.put(o, Long.parseLong(required(kv, o.name())));
        }
        return new InstanceResult(
                outcomes,
                Long.parseLong(required(kv, "conflicts")),
                Long.parseLong(required(kv, "lockWaitMicros")),
                Long.parseLong(required(kv, "lockHeldMicros")),
                Long.parseLong(required(kv, "grants")),
                Integer.parseInt(required(kv, "reopened")),
                Long.parseLong(required(kv, "elapsedMillis")),
                decodeHistogram(required(kv, "all")),
                decodeHistogram(required(kv, "redeemed")));
    }

    private static String required(Map<String, String> kv, String key) {
        String v = kv.get(key);
        if (v == null) {
            throw new IllegalArgumentException("result line without " + key);
        }
        return v;
    }

    private static String encode(Histogram h) {
        ByteBuffer buffer = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int n = h.encodeIntoCompressedByteBuffer(buffer);
        byte[] bytes = new byte[n];
        buffer.flip();
        buffer.get(bytes);
        return Base64.getEncoder().encodeToString(bytes);
    }

    private static Histogram decodeHistogram(String base64) {
        try {
            return Histogram.decodeFromCompressedByteBuffer(
                    ByteBuffer.wrap(Base64.getDecoder().decode(base64)), 0);
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("unreadable histogram: " + e.getMessage(), e);
        }
    }
}
