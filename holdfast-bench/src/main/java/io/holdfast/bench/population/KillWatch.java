package io.holdfast.bench.population;

import io.holdfast.bench.population.Generator.KillTally;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A crowd's side of a leader's SIGKILL, whatever carries its sessions: what each connection's home was at the kill,
 * how often it had moved, how many sessions were open and expired, and each session's longest unserved wait
 * ({@link ServedAgain}) over the window after the kill; then the {@link KillTally}. A connection is what a crowd
 * routes its sessions' calls over: a shared Holdfast transport ({@link Crowd}), or one ZooKeeper handle, which is
 * one session ({@link ZkCrowd}).
 *
 * <p>Guaranteed: {@link #afterKill} returns once the window has passed and every wait begun in it was answered, or
 * a TTL after the window's end. Not guaranteed: anything about connections opened after the kill (they are not
 * counted). Failure story: a crowd that reports no sends ({@link ServedAgain#sent}) gets every session counted as
 * silent.
 */
final class KillWatch {
    /** The crowd's connections as they are now. */
    interface Connections {
        int count();

        /** Its home member ({@code host:port}), or a word when it has none. */
        String home(int c);

        /** How often it changed home (or reconnected) so far. */
        long moves(int c);

        /** Sessions on it. */
        int sessions(int c);
    }

    private final ServedAgain servedAgain;
    private String killed;
    private List<String> homesAtKill = List.of();
    private List<Long> movesAtKill = List.of();
    private long expiredAtKill;
    private int sessionsAtKill;
    private Map<String, Integer> sessionsByHomeAtKill = Map.of();

    KillWatch(ServedAgain servedAgain) {
        this.servedAgain = servedAgain;
    }

    /** The member about to be killed; notes the connections' homes and starts the window. */
    void killing(
            String member,
            Duration window,
            Connections connections,
            int sessions,
            long expired,
            Map<String, Integer> sessionsByHome) {
        killed = member;
        List<String> homes = new ArrayList<>();
        List<Long> moves = new ArrayList<>();
        for (int c = 0; c < connections.count(); c++) {
            homes.add(connections.home(c));
            moves.add(connections.moves(c));
        }
        homesAtKill = homes;
        movesAtKill = moves;
        expiredAtKill = expired;
        sessionsAtKill = sessions - (int) expired;
        sessionsByHomeAtKill = sessionsByHome;
        servedAgain.mark(window);
    }

    /**
     * Waits for the window's end, then for its last waits' answers (a TTL at most), and counts.
     *
     * @param expired the crowd's sessions no longer open, now
     */
    KillTally afterKill(Connections connections, Duration ttl, LongSupplier expired) throws InterruptedException {
        long end = servedAgain.windowEnd();
        TimeUnit.NANOSECONDS.sleep(end - System.nanoTime());
        long limit = end + ttl.toNanos();
        while (servedAgain.openWaits() > 0 && System.nanoTime() < limit) {
            Thread.sleep(50);
        }
        ServedAgain.Figures f = servedAgain.figures();
        int[] on = new int[2];
        int[] moved = new int[2];
        int[] elsewhere = new int[2];
        int[] movedElsewhere = new int[2];
        for (int c = 0; c < homesAtKill.size(); c++) {
            boolean hadToMove = homesAtKill.get(c).equals(killed);
            boolean didMove =
                    !connections.home(c).equals(homesAtKill.get(c)) || connections.moves(c) > movesAtKill.get(c);
            int s = connections.sessions(c);
            add(hadToMove ? on : elsewhere, s);
            if (didMove) {
                add(hadToMove ? moved : movedElsewhere, s);
            }
        }
        return new KillTally(
                sessionsAtKill,
                sessionsByHomeAtKill,
                expired.getAsLong() - expiredAtKill,
                f.gapsMillis(),
                Math.max(0, sessionsAtKill - f.seen()),
                f.unanswered(),
                count(on),
                count(moved),
                count(elsewhere),
                count(movedElsewhere));
    }

    private static void add(int[] count, int sessions) {
        count[0]++;
        count[1] += sessions;
    }

    private static KillTally.Count count(int[] count) {
        return new KillTally.Count(count[0], count[1]);
    }
}
