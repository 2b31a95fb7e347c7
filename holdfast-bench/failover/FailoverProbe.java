import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.holdfast.ClientOptions;
import io.holdfast.DistributedLock;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One client doing durable operations in a closed loop against one system, for failover.sh: it
 * prints a line {@code GAP <start> <end>} (epoch milliseconds) for every interval of at least 50
 * ms between two successive successes, {@code ERR <epoch ms> <message>} for the first failure
 * of such an interval, and (Java client) {@code SLOW acquire|release <start> <end>} for a call of
 * 200 ms or more. failover.sh matches the kill times against the gaps.
 *
 * <pre>
 * java -cp CLASSPATH FailoverProbe java holdfast://127.0.0.1:31653,127.0.0.1:31753,127.0.0.1:31853
 * java -cp CLASSPATH FailoverProbe http http://127.0.0.1:31655,http://127.0.0.1:31755,http://127.0.0.1:31855
 * java -cp CLASSPATH FailoverProbe etcd http://127.0.0.1:32379,http://127.0.0.1:32479,http://127.0.0.1:32579
 * </pre>
 *
 * <ul>
 *   <li>{@code java}: Holdfast's Java client ({@code LockClient}, default options): {@code
 *       acquire} then {@code close} of lock {@code failover/java}; each returns a success.
 *   <li>{@code http}: the HTTP protocol as docs/protocol.md tells other languages' clients (and as
 *       the Python client does it): numbered requests, the same {@code requestId} re-sent on 503 or
 *       a network error, a {@code NOT_LEADER} naming the leader followed at once, each member tried
 *       once a round; between rounds the leader search's pause (20 ms doubling to 100 ms, for up to 3 s)
 *       while members answer NOT_LEADER, otherwise a backoff of 50 ms doubling to {@code
 *       HTTP_BACKOFF_CAP_MS} (default 1000), each delay drawn between half and all of it. Acquire, then release, of lock {@code
 *       failover/http} (each probe has its own lock: none waits for another); each answer is a success.
 *   <li>{@code etcd}: jetcd's {@code KV.put} with its default options (its own retries).
 * </ul>
 */
public final class FailoverProbe {
    private static final long GAP_MS = 50;
    private static long last = System.currentTimeMillis();
    private static boolean errorTold;

    private FailoverProbe() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: FailoverProbe java|http|etcd TARGETS");
            System.exit(2);
        }
        switch (args[0]) {
            case "java" -> javaClient(args[1]);
            case "http" -> new Http(args[1].split(",")).run();
            case "etcd" -> etcd(args[1].split(","));
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    private static synchronized void success() {
        long now = System.currentTimeMillis();
        if (now - last >= GAP_MS) {
            System.out.println("GAP " + last + " " + now);
            System.out.flush();
        }
        last = now;
        errorTold = false;
    }

    private static synchronized void failure(Throwable e) {
        if (!errorTold) {
            errorTold = true;
            String message = String.valueOf(e.getMessage()).replace('\n', ' ');
            System.out.println("ERR " + System.currentTimeMillis() + " " + e.getClass().getSimpleName() + ": "
                    + message.substring(0, Math.min(300, message.length())));
            System.out.flush();
        }
    }

    /** Prints {@code SLOW <what> <start> <end>} for a call of 200 ms or more. */
    private static synchronized void slow(String what, long start) {
        long now = System.currentTimeMillis();
        if (now - start >= 200) {
            System.out.println("SLOW " + what + " " + start + " " + now);
        }
    }

    private static void pause() throws InterruptedException {
        TimeUnit.MILLISECONDS.sleep(10);
    }

    private static void javaClient(String uri) throws InterruptedException {
        try (LockClient client = LockClient.open(uri, ClientOptions.builder().clientName("failover-probe").build())) {
            DistributedLock lock = client.lock("failover/java"); // a lock of its own: no other probe waits for it
            System.out.println("READY " + System.currentTimeMillis());
            while (true) {
                long start = System.currentTimeMillis();
                try (Lease lease = lock.acquire(Duration.ofSeconds(30))) {
                    success();
                    slow("acquire", start);
                    start = System.currentTimeMillis();
                } catch (RuntimeException e) {
                    failure(e);
                    pause();
                    continue;
                }
                success(); // the release returned
                slow("release", start);
            }
        }
    }

    private static void etcd(String[] endpoints) throws InterruptedException {
        try (Client client = Client.builder().endpoints(endpoints).build()) {
            KV kv = client.getKVClient();
            ByteSequence key = ByteSequence.from("failover/probe", StandardCharsets.UTF_8);
            System.out.println("READY " + System.currentTimeMillis());
            for (long i = 0; ; i++) {
                try {
                    kv.put(key, ByteSequence.from(Long.toString(i), StandardCharsets.UTF_8))
                            .get(10, TimeUnit.SECONDS);
                    success();
                } catch (Exception e) {
                    if (e instanceof InterruptedException) {
                        throw (InterruptedException) e;
                    }
                    failure(e);
                    pause();
                }
            }
        }
    }

    /** The HTTP protocol's client side, as small as docs/protocol.md allows. */
    static final class Http {
        private static final Pattern STRING_FIELD = Pattern.compile("\"(\\w+)\":\"([^\"]*)\"");
        private static final Pattern NUMBER_FIELD = Pattern.compile("\"(\\w+)\":(-?\\d+)");
        private final List<String> members = new ArrayList<>();
        private final Map<String, Integer> ids = new HashMap<>();
        private final HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        private final long backoffCapMs = Long.parseLong(System.getenv().getOrDefault("HTTP_BACKOFF_CAP_MS", "1000"));
        private int current;
        private long seq;

        Http(String[] urls) {
            for (String u : urls) {
                members.add(u.replaceAll("/+$", ""));
            }
        }

        void run() throws InterruptedException {
            for (int i = 0; i < members.size(); i++) {
                String id = null;
                while (id == null) {
                    try {
                        id = field(send(i, "GET", "/status", null).body(), STRING_FIELD, "id");
                    } catch (IOException e) {
                        TimeUnit.MILLISECONDS.sleep(200);
                    }
                }
                ids.put(id, i);
            }
            String session = field(
                    call("/api/v1/sessions", "{\"clientName\":\"failover-probe\",\"ttlMillis\":10000}"),
                    STRING_FIELD,
                    "sessionId");
            System.out.println("READY " + System.currentTimeMillis());
            while (true) {
                long acquire = ++seq;
                String granted = call(
                        "/api/v1/acquire",
                        "{\"session\":\"" + session + "\",\"requestId\":" + acquire + ",\"ackedBelow\":" + acquire
                                + ",\"name\":\"failover/http\",\"waitMillis\":30000}");
                success();
                String token = field(granted, NUMBER_FIELD, "token");
                long release = ++seq;
                call(
                        "/api/v1/release",
                        "{\"session\":\"" + session + "\",\"requestId\":" + release + ",\"ackedBelow\":" + release
                                + ",\"name\":\"failover/http\",\"token\":" + token + "}");
                success();
            }
        }

        /**
         * Sends until a final answer (anything but 502/503/504 or a network error); returns its body.
         * As the HTTP clients do (docs/protocol.md): a round tries each member once, a hint naming a
         * member not yet tried is followed at once; between rounds, if a member answered NOT_LEADER,
         * a leader is being elected: 20 ms doubling to 100 ms, for at most 3 s of search; otherwise
         * the ordinary backoff, 50 ms doubling to {@code HTTP_BACKOFF_CAP_MS}.
         */
        private String call(String path, String body) throws InterruptedException {
            long delay = 50;
            long searchDelay = 20;
            long searchStarted = -1;
            while (true) {
                boolean notLeader = false;
                Set<Integer> tried = new HashSet<>();
                while (tried.add(current)) {
                    HttpResponse<String> answer;
                    try {
                        answer = send(current, "POST", path, body);
                    } catch (IOException e) {
                        failure(e);
                        current = (current + 1) % members.size();
                        continue;
                    }
                    int status = answer.statusCode();
                    if (status != 502 && status != 503 && status != 504) {
                        if (status / 100 != 2) {
                            throw new IllegalStateException(path + " answered " + status + " " + answer.body());
                        }
                        return answer.body();
                    }
                    failure(new IOException(status + " " + answer.body()));
                    notLeader |= answer.body().contains("NOT_LEADER");
                    String leader = field(answer.body(), STRING_FIELD, "leader");
                    Integer target = leader == null ? null : ids.get(leader);
                    current = target != null && !tried.contains(target) ? target : (current + 1) % members.size();
                }
                long now = System.nanoTime();
                if (notLeader && (searchStarted < 0 || now - searchStarted < TimeUnit.SECONDS.toNanos(3))) {
                    searchStarted = searchStarted < 0 ? now : searchStarted;
                    pause(searchDelay);
                    searchDelay = Math.min(100, searchDelay * 2);
                } else {
                    pause(delay);
                    delay = Math.min(backoffCapMs, delay * 2);
                }
            }
        }

        /** Sleeps between half and all of {@code delay} ms. */
        private static void pause(long delay) throws InterruptedException {
            TimeUnit.MICROSECONDS.sleep(delay * 500 + ThreadLocalRandom.current().nextLong(delay * 500 + 1));
        }

        private HttpResponse<String> send(int member, String method, String path, String body)
                throws IOException, InterruptedException {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(members.get(member) + path))
                    .timeout(Duration.ofSeconds(40))
                    .header("Content-Type", "application/json");
            request.method(
                    method,
                    body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        }

        private static String field(String json, Pattern pattern, String name) {
            Matcher m = pattern.matcher(json);
            while (m.find()) {
                if (m.group(1).equals(name)) {
                    return m.group(2);
                }
            }
            return null;
        }
    }
}
