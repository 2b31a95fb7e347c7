package io.holdfast.bench.population;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.holdfast.bench.population.Generator.KillTally;
import io.holdfast.bench.population.Generator.Tally;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * One process of a {@link Fleet}: a {@link Crowd} (or, on a {@code zookeeper://} URI, a {@link ZkCrowd}) that
 * carries this worker's share of every step, driven by its
 * coordinator over standard input and output, one JSON object a line ({@link Request} in, {@link Answer} out, one
 * answer per request, in order).
 *
 * <p>Arguments: {@code URI TTL_MILLIS SESSIONS_PER_CONNECTION LOCK_PREFIX OPEN_RATE}. The first line it writes is
 * the answer to its start (a tally of nothing, or why the crowd could not start). Requests: {@code grow} (kind,
 * count: this worker's share), {@code tally}, {@code killing} (member, window in ms), {@code afterKill}, {@code
 * close}.
 *
 * <p>Guaranteed: standard output carries nothing but answers (everything else this JVM prints goes to standard
 * error, which the coordinator writes to the worker's log); when its standard input ends (the coordinator is gone),
 * it closes its sessions and exits. Failure story: a request that fails is answered {@code ok: false} with the
 * error's message, and the worker goes on.
 */
public final class CrowdWorker {
    /** What the coordinator asks: {@code op}, and for some ops a kind, a count, a member, a window in ms. */
    record Request(String op, String kind, int count, String member, long windowMillis) {}

    /** A worker's answer: ok or the error; the tally after a grow or tally, the kill's figures after afterKill. */
    record Answer(boolean ok, String error, Tally tally, KillTally kill) {
        static Answer failed(Throwable e) {
            return new Answer(false, String.valueOf(e.getMessage() != null ? e.getMessage() : e), null, null);
        }
    }

    static final ObjectMapper JSON =
            new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private CrowdWorker() {}

    public static void main(String[] args) throws IOException, InterruptedException {
        PrintStream answers = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err); // a logger's console lines must not mix with the answers
        if (args.length != 5) {
            answers.println(JSON.writeValueAsString(Answer.failed(new IllegalArgumentException(
                    "usage: CrowdWorker URI TTL_MILLIS SESSIONS_PER_CONNECTION LOCK_PREFIX OPEN_RATE"))));
            System.exit(64);
        }
        Generator crowd;
        try {
            Duration ttl = Duration.ofMillis(Long.parseLong(args[1]));
            double openRate = Double.parseDouble(args[4]);
            crowd = args[0].startsWith("zookeeper://")
                    ? new ZkCrowd(args[0], ttl, args[3], openRate)
                    : new Crowd(
                            args[0],
                            ttl,
                            Integer.parseInt(args[2]),
                            io.holdfast.ClientOptions.defaults().requestTimeout(),
                            args[3],
                            openRate);
        } catch (RuntimeException e) {
            answers.println(JSON.writeValueAsString(Answer.failed(e)));
            System.exit(1);
            return;
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (crowd) {
            answers.println(JSON.writeValueAsString(new Answer(true, null, tally(crowd), null)));
            for (String line; (line = in.readLine()) != null; ) {
                Request r = JSON.readValue(line, Request.class);
                Answer a;
                try {
                    a = serve(crowd, r);
                } catch (RuntimeException e) {
                    a = Answer.failed(e);
                }
                answers.println(JSON.writeValueAsString(a));
                if (r.op().equals("close")) {
                    break;
                }
            }
        }
        System.exit(0); // the client's non-daemon threads, if any, must not keep a finished worker
    }

    private static Tally tally(Generator crowd) throws InterruptedException {
        return crowd.tallies().get(0);
    }

    private static Answer serve(Generator crowd, Request r) throws InterruptedException {
        return switch (r.op()) {
            case "grow" -> {
                crowd.grow(new PopulationBench.Step(r.kind(), r.count()));
                yield new Answer(true, null, tally(crowd), null);
            }
            case "tally", "close" -> new Answer(true, null, tally(crowd), null);
            case "killing" -> {
                crowd.killing(r.member(), Duration.ofMillis(r.windowMillis()));
                yield new Answer(true, null, null, null);
            }
            case "afterKill" -> new Answer(true, null, null, crowd.afterKill());
            default -> throw new IllegalArgumentException("no such request: " + r.op());
        };
    }
}
