package io.holdfast.verify.client;

import io.holdfast.verify.store.ProtectedStore;
import io.holdfast.verify.store.TcpProtectedStore;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The command line of a client worker process ({@link ClientMain}): its options, the durations they
 * give, and the stores' addresses. Every malformed value is an {@link IllegalArgumentException}
 * that says what was wrong; {@link ClientMain#main} prints it with {@link #USAGE} and exits 2.
 */
final class ClientArgs {
    /** The usage line printed after a bad option. */
    static final String USAGE = "usage: ClientMain --id ID --uri URI --history FILE --fenced HOST:PORT"
            + " --unfenced HOST:PORT --seed N --ttl DURATION [--request-timeout DURATION] [--intruder]"
            + " [--multi-locks] [--elections [--observe ELECTION,...] [--bug NAME]] [--keys]";

    private static final Pattern SIMPLE_DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

    private ClientArgs() {}

    /** The options as name → value ("" for the flags --intruder, --multi-locks, --elections and --keys). */
    static Map<String, String> parse(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument: " + a);
            }
            String name = a.substring(2);
            if (List.of("intruder", "multi-locks", "elections", "keys").contains(name)) {
                o.put(name, "");
            } else if (i + 1 < args.length) {
                o.put(name, args[++i]);
            } else {
                throw new IllegalArgumentException(a + " needs a value");
            }
        }
        for (String required : new String[] {"id", "uri", "history", "fenced", "unfenced", "seed", "ttl"}) {
            if (!o.containsKey(required)) {
                throw new IllegalArgumentException("missing --" + required);
            }
        }
        if (o.containsKey("bug") && !ClientMain.BUGS.contains(o.get("bug"))) {
            throw new IllegalArgumentException(
                    "unknown client bug '" + o.get("bug") + "' (known: " + String.join(", ", ClientMain.BUGS) + ")");
        }
        return o;
    }

    /** "3s", "500ms", "2m", "1h", or ISO-8601 ("PT3S"). */
    static Duration duration(String s) {
        Matcher m = SIMPLE_DURATION.matcher(s.trim());
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
        }
        try {
            return Duration.parse(s.trim());
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("not a duration: " + s + " (use 3s, 500ms, 2m or PT3S)", e);
        }
    }

    /** The TCP store client for HOST:PORT. */
    static ProtectedStore openStore(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("a store is HOST:PORT, not " + hostPort);
        }
        return new TcpProtectedStore(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }
}
