package io.holdfast.bench.population;

import io.holdfast.bench.population.PopulationBench.Step;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What grows the population and tells what it carries: one {@link Crowd} in this JVM, or a {@link Fleet} of worker
 * processes ({@link CrowdWorker}) that each carry a share of every step. {@link PopulationBench} sees only this.
 *
 * <p>Guaranteed: {@link #tallies()} has one entry per process that carries sessions, in a fixed order; the
 * fleet's figures are the sums of its workers'. Failure story: a step the processes cannot carry throws
 * (IllegalStateException or IllegalArgumentException, naming the worker); a worker that died throws the same way,
 * naming its log's tail.
 */
interface Generator extends AutoCloseable {
    /** Raises one kind of the population to the step's count, across every process. */
    void grow(Step step) throws InterruptedException;

    /** What each process carries now, one entry per process. */
    List<Tally> tallies() throws InterruptedException;

    /**
     * The member at {@code member} ({@code host:port}, as the client names it) is about to be SIGKILLed: from now
     * until {@code window} later, each session's longest wait for a heartbeat's acknowledgement is recorded, and
     * each connection's home is noted.
     */
    void killing(String member, Duration window) throws InterruptedException;

    /** Waits until the window given to {@link #killing} has passed; what the kill cost the population. */
    KillTally afterKill() throws InterruptedException;

    @Override
    void close() throws InterruptedException;

    /**
     * What one process carries.
     *
     * @param keepAlives heartbeats acknowledged so far
     * @param expired sessions no longer open
     * @param sessionsByHome sessions per home member ({@code host:port}): the member their connection's calls go to
     * @param connectionsByHome connections per home member
     * @param pid the process (its CPU is the generator's)
     */
    record Tally(
            int sessions,
            int held,
            int waiters,
            int watchers,
            long keepAlives,
            long expired,
            Map<String, Integer> sessionsByHome,
            Map<String, Integer> connectionsByHome,
            long pid) {

        /** The sums of the processes' figures (pid: the first's). */
        static Tally sum(List<Tally> all) {
            Map<String, Integer> sessionsBy = new TreeMap<>();
            Map<String, Integer> connectionsBy = new TreeMap<>();
            int sessions = 0;
            int held = 0;
            int waiters = 0;
            int watchers = 0;
            long keepAlives = 0;
            long expired = 0;
            for (Tally t : all) {
                sessions += t.sessions;
                held += t.held;
                waiters += t.waiters;
                watchers += t.watchers;
                keepAlives += t.keepAlives;
                expired += t.expired;
                t.sessionsByHome.forEach((k, v) -> sessionsBy.merge(k, v, Integer::sum));
                t.connectionsByHome.forEach((k, v) -> connectionsBy.merge(k, v, Integer::sum));
            }
            return new Tally(
                    sessions,
                    held,
                    waiters,
                    watchers,
                    keepAlives,
                    expired,
                    sessionsBy,
                    connectionsBy,
                    all.isEmpty() ? -1 : all.get(0).pid);
        }
    }

    /**
     * What a leader's SIGKILL cost the population, over the window after it.
     *
     * @param sessions the sessions open at the kill
     * @param sessionsByHome the sessions per home member at the kill
     * @param lost sessions that expired after the kill
     * @param gapsMillis for each session that had a heartbeat in flight in the window: its longest wait, in ms, from
     *     a heartbeat's sending until that heartbeat or a later one of the session was acknowledged (a wait begun
     *     in the window and still open a TTL after its end counts until then)
     * @param silent sessions that sent no heartbeat in the window
     * @param unanswered sessions whose wait, begun in the window, was still open a TTL after its end
     * @param onKilled connections homed on the killed member at the kill, and the sessions on them
     * @param movedFromKilled of those, connections whose home changed by the window's end, and their sessions
     * @param elsewhere connections homed on another member at the kill, and their sessions
     * @param movedElsewhere of those, connections whose home changed, and their sessions
     */
    record KillTally(
            int sessions,
            Map<String, Integer> sessionsByHome,
            long lost,
            long[] gapsMillis,
            int silent,
            int unanswered,
            Count onKilled,
            Count movedFromKilled,
            Count elsewhere,
            Count movedElsewhere) {

        /** Connections and the sessions on them. */
        record Count(int connections, int sessions) {
            Count plus(Count o) {
                return new Count(connections + o.connections, sessions + o.sessions);
            }
        }

        static KillTally sum(List<KillTally> all) {
            List<long[]> gaps = new ArrayList<>();
            Map<String, Integer> sessionsBy = new TreeMap<>();
            int sessions = 0;
            long lost = 0;
            int silent = 0;
            int unanswered = 0;
            Count zero = new Count(0, 0);
            Count onKilled = zero;
            Count movedFromKilled = zero;
            Count elsewhere = zero;
            Count movedElsewhere = zero;
            for (KillTally k : all) {
                gaps.add(k.gapsMillis);
                sessions += k.sessions;
                k.sessionsByHome.forEach((home, n) -> sessionsBy.merge(home, n, Integer::sum));
                lost += k.lost;
                silent += k.silent;
                unanswered += k.unanswered;
                onKilled = onKilled.plus(k.onKilled);
                movedFromKilled = movedFromKilled.plus(k.movedFromKilled);
                elsewhere = elsewhere.plus(k.elsewhere);
                movedElsewhere = movedElsewhere.plus(k.movedElsewhere);
            }
            long[] joined = gaps.stream().flatMapToLong(Arrays::stream).toArray();
            return new KillTally(
                    sessions,
                    sessionsBy,
                    lost,
                    joined,
                    silent,
                    unanswered,
                    onKilled,
                    movedFromKilled,
                    elsewhere,
                    movedElsewhere);
        }

        /** The gap at percentile {@code p} (nearest rank) over the sessions' gaps; -1 if none. */
        long gapPercentile(double p) {
            if (gapsMillis.length == 0) {
                return -1;
            }
            long[] sorted = gapsMillis.clone();
            Arrays.sort(sorted);
            int rank = (int) Math.ceil(p / 100 * sorted.length);
            return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
        }
    }
}
