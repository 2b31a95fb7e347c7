package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.HolderInfo;
import io.holdfast.LockInfo;
import io.holdfast.LockMode;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.ShrinkingMode;
import org.junit.jupiter.api.Test;

/**
 * Random mixes of single-name and multi-lock requests (with releases, cancels, ticks that time
 * waits and leases out, and session expiries) against {@link LockTable}, checking after every step:
 *
 * <ul>
 *   <li>no lock has an exclusive holder beside another holder;
 *   <li>first come, first served: nobody is granted a name while someone who stood before it in
 *       that name's queue still waits there;
 *   <li>a multi-lock is granted whole in one step (one {@link Event.Granted} per name, or one
 *       {@link Reply.GrantedAll}), once;
 *   <li>every grant has a token above every earlier one, and the holders the table shows are
 *       exactly the grants it told of and did not take back;
 *   <li>no queue's head could be granted and is not (a wait that nobody will wake): a single
 *       waiter at the head does not fit, and a multi-lock at the head does not head all its queues
 *       with room in each;
 *   <li>a copy restored from a snapshot taken at a random step answers every later step the same.
 * </ul>
 *
 * Then every holder lets go, round after round, without time passing: every wait still queued must
 * be granted (none starves while its deadline is ahead), and none may be left. With the planted bug
 * {@link PlantedBug#MULTI_LOCK_PARTIAL_GRANT} the same scripts fail.
 */
class PropertyMultiLockTest {
    private static final String[] NAMES = {"p/a", "p/b", "p/c", "p/d"};
    private static final int SESSIONS = 3;

    @Property(tries = 400, shrinking = ShrinkingMode.OFF)
    void singleAndMultiRequestsKeepEveryInvariantAndNoWaitStarves(@ForAll long seed) {
        String violation = new Run(seed, Set.of()).run();
        assertThat(violation).as("seed %d", seed).isNull();
    }

    @Test
    void thePlantedPartialGrantIsCaught() {
        int caught = 0;
        for (long seed = 1; seed <= 200; seed++) {
            String violation = new Run(seed, EnumSet.of(PlantedBug.MULTI_LOCK_PARTIAL_GRANT)).run();
            if (violation != null) {
                caught++;
            }
        }
        assertThat(caught).as("scripts of 200 that catch the partial grant").isGreaterThan(20);
    }

    /** One random script and its checks. */
    private static final class Run {
        private final Random random;
        private final TableDriver t;
        private TableDriver copy;
        private final TableDriver.Client[] clients = new TableDriver.Client[SESSIONS];
        private int generation;
        /** Multi-locks waiting, by session id and seq: their names. */
        private final Map<String, List<String>> multi = new HashMap<>();
        /** Grants told and not taken back: "session token" -> name. */
        private final Map<String, String> held = new HashMap<>();

        private long lastToken;

        Run(long seed, Set<PlantedBug> bugs) {
            this.random = new Random(seed);
            this.t = new TableDriver(new LockTable(bugs));
        }

        String run() {
            try {
                for (int i = 0; i < SESSIONS; i++) {
                    clients[i] = t.open("s" + i + "g0");
                }
                int steps = 20 + random.nextInt(60);
                int restoreAt = random.nextInt(steps);
                for (int step = 0; step < steps; step++) {
                    if (step == restoreAt) {
                        copy = t.restored();
                    }
                    step();
                }
                drain();
                if (copy != null) {
                    byte[] mine = t.snapshot();
                    byte[] theirs = copy.snapshot();
                    int at = Arrays.mismatch(mine, theirs);
                    assertThat(at)
                            .as(
                                    "the restored copy ends equal; from byte %d: %s / %s",
                                    at, at < 0 ? "" : text(mine, at), at < 0 ? "" : text(theirs, at))
                            .isEqualTo(-1);
                }
                return null;
            } catch (AssertionError e) {
                return e.getMessage();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private static String text(byte[] bytes, int at) {
            StringBuilder b = new StringBuilder();
            for (int i = Math.max(0, at - 40); i < Math.min(bytes.length, at + 40); i++) {
                char ch = (char) (bytes[i] & 0xff);
                b.append(ch >= ' ' && ch <= '~' ? String.valueOf(ch) : "<" + (bytes[i] & 0xff) + ">");
            }
            return b.toString();
        }

        /** Every queue: its waits, head first, as "session seq". */
        private Map<String, List<String>> queues() {
            Map<String, List<String>> out = new HashMap<>();
            for (Resource r : t.table().parts().queues.map().values()) {
                List<String> q = new ArrayList<>();
                for (Waiter w = r.queueHead; w != null; w = w.qNext) {
                    q.add(w.session.id() + " " + w.seq);
                }
                out.put(r.name, q);
            }
            return out;
        }

        /**
         * First come, first served: whoever is granted a name in a step, nobody who stood before it
         * in that name's queue is still there after the step.
         */
        private void checkOrder(Map<String, List<String>> before, Command command, Reply reply, List<Event> events) {
            Map<String, List<String>> after = queues();
            List<String[]> grants = new ArrayList<>();
            for (Event e : events) {
                if (e instanceof Event.Granted g) {
                    grants.add(new String[] {g.name(), g.sessionId() + " " + g.seq()});
                }
            }
            if (command instanceof Command.Acquire a && reply instanceof Reply.Granted) {
                grants.add(new String[] {a.name(), null});
            } else if (command instanceof Command.AcquireAll a && reply instanceof Reply.GrantedAll) {
                for (String name : a.names()) {
                    grants.add(new String[] {name, null});
                }
            }
            for (String[] g : grants) {
                List<String> was = before.getOrDefault(g[0], List.of());
                int place = g[1] == null ? was.size() : was.indexOf(g[1]);
                for (String ahead : was.subList(0, Math.max(0, place))) {
                    assertThat(after.getOrDefault(g[0], List.of()))
                            .as("%s was granted %s while %s, ahead of it, still waits", g[1], g[0], ahead)
                            .doesNotContain(ahead);
                }
            }
        }

        private Reply apply(Command command) {
            Map<String, List<String>> before = queues();
            Reply reply = t.apply(command);
            List<Event> events = t.events();
            checkOrder(before, command, reply, events);
            if (copy != null) {
                assertThat(copy.apply(command))
                        .as("the restored copy answers alike")
                        .isEqualTo(reply);
                assertThat(copy.events()).as("the restored copy tells alike").isEqualTo(events);
            }
            observe(command, reply, events);
            check();
            return reply;
        }

        private void step() {
            int kind = random.nextInt(100);
            TableDriver.Client c = clients[random.nextInt(SESSIONS)];
            LockMode mode = random.nextInt(3) == 0 ? LockMode.SHARED : LockMode.EXCLUSIVE;
            long owner = 1 + random.nextInt(2);
            long wait = new long[] {0, 400, 5_000}[random.nextInt(3)];
            long lease = random.nextInt(4) == 0 ? 1_000 : 0;
            if (kind < 30) {
                apply(new Command.Acquire(
                        c.next(), NAMES[random.nextInt(NAMES.length)], mode, 1, 1, owner, wait, lease));
            } else if (kind < 55) {
                TreeSet<String> names = new TreeSet<>();
                int n = 1 + random.nextInt(3);
                while (names.size() < n) {
                    names.add(NAMES[random.nextInt(NAMES.length)]);
                }
                apply(new Command.AcquireAll(c.next(), List.copyOf(names), mode, owner, wait, lease));
            } else if (kind < 75) {
                List<String> mine = new ArrayList<>();
                for (Map.Entry<String, String> e : held.entrySet()) {
                    if (e.getKey().startsWith(c.id + " ")) {
                        mine.add(e.getKey());
                    }
                }
                if (!mine.isEmpty()) {
                    mine.sort(null);
                    String key = mine.get(random.nextInt(mine.size()));
                    long token = Long.parseLong(key.substring(key.indexOf(' ') + 1));
                    apply(new Command.Release(c.next(), held.get(key), token));
                }
            } else if (kind < 82) {
                List<String> waits = new ArrayList<>();
                for (String key : multi.keySet()) {
                    if (key.startsWith(c.id + " ")) {
                        waits.add(key);
                    }
                }
                if (!waits.isEmpty()) {
                    waits.sort(null);
                    String key = waits.get(random.nextInt(waits.size()));
                    long seq = Long.parseLong(key.substring(key.indexOf(' ') + 1));
                    apply(new Command.CancelWait(c.next(), multi.get(key).get(0), seq));
                }
            } else if (kind < 96) {
                t.advance(new long[] {0, 300, 1_000}[random.nextInt(3)]);
                if (copy != null) {
                    copy.at(t.time());
                }
                apply(new Command.Tick());
            } else {
                int i = Arrays.asList(clients).indexOf(c);
                apply(new Command.ExpireSession(c.id));
                clients[i] = t.open("s" + i + "g" + (++generation));
                if (copy != null) {
                    copy.at(t.time()).open("s" + i + "g" + generation);
                }
            }
        }

        private void observe(Command command, Reply reply, List<Event> events) {
            String session = command instanceof Command.ClientCommand cc
                    ? cc.invocation().sessionId()
                    : null;
            if (reply instanceof Reply.Granted g && command instanceof Command.Acquire a) {
                grant(session, a.name(), g.token());
            } else if (reply instanceof Reply.GrantedAll g && command instanceof Command.AcquireAll a) {
                assertThat(g.tokens()).hasSameSizeAs(a.names());
                for (int i = 0; i < g.tokens().size(); i++) {
                    grant(session, a.names().get(i), g.tokens().get(i));
                }
            } else if (reply == Reply.Queued.INSTANCE && command instanceof Command.AcquireAll a) {
                multi.put(session + " " + a.invocation().seq(), a.names());
            } else if (reply instanceof Reply.Ok && command instanceof Command.Release r) {
                assertThat(held.remove(session + " " + r.token()))
                        .as("released grant was told")
                        .isNotNull();
            } else if (reply instanceof Reply.Ok ok && ok.value() == 1 && command instanceof Command.CancelWait w) {
                multi.remove(session + " " + w.waitSeq());
            }
            Map<String, List<String>> grantedNow = new HashMap<>();
            for (Event e : events) {
                if (e instanceof Event.Granted g) {
                    grant(g.sessionId(), g.name(), g.token());
                    grantedNow
                            .computeIfAbsent(g.sessionId() + " " + g.seq(), k -> new ArrayList<>())
                            .add(g.name());
                } else if (e instanceof Event.Lost l) {
                    assertThat(held.remove(l.sessionId() + " " + l.token()))
                            .as("lost grant was told")
                            .isNotNull();
                } else if (e instanceof Event.WaitTimedOut w) {
                    multi.remove(w.sessionId() + " " + w.seq());
                }
            }
            if (command instanceof Command.ExpireSession x) {
                assertThat(held.keySet())
                        .as("every grant of an expired session is told lost")
                        .noneMatch(k -> k.startsWith(x.sessionId() + " "));
                multi.keySet().removeIf(k -> k.startsWith(x.sessionId() + " "));
            }
            for (Map.Entry<String, List<String>> g : grantedNow.entrySet()) {
                List<String> names = multi.remove(g.getKey());
                if (names != null) {
                    assertThat(g.getValue())
                            .as("a multi-lock is granted whole, in one step")
                            .isEqualTo(names);
                } else {
                    assertThat(g.getValue()).as("a single wait is granted once").hasSize(1);
                }
            }
        }

        private void grant(String session, String name, long token) {
            assertThat(token).as("tokens grow").isGreaterThan(lastToken);
            lastToken = token;
            assertThat(held.put(session + " " + token, name)).isNull();
        }

        private void check() {
            Map<String, String> shown = new HashMap<>();
            for (LockInfo info : t.table().list("", null, 100, t.time(), n -> true)) {
                long exclusive = info.holders().stream()
                        .filter(h -> h.mode() == LockMode.EXCLUSIVE)
                        .count();
                assertThat(exclusive == 0 || info.holders().size() == 1)
                        .as("no exclusive holder of %s beside another: %s", info.name(), info.holders())
                        .isTrue();
                for (HolderInfo h : info.holders()) {
                    shown.put(h.sessionId() + " " + h.fencingToken(), info.name());
                }
            }
            assertThat(shown).as("the holders are the grants told").isEqualTo(held);
            for (Resource r : t.table().parts().queues.map().values()) {
                Waiter w = r.queueHead;
                if (w == null) {
                    continue;
                }
                boolean fits;
                if (w.group == null) {
                    fits = r.compatible(w.mode, w.permits);
                } else {
                    fits = true;
                    for (Waiter m : w.group) {
                        fits &= m.resource.queueHead == m && m.resource.compatible(m.mode, 1);
                    }
                }
                assertThat(fits && w.deadline > t.time())
                        .as("the head of %s's queue could be granted and is not", r.name)
                        .isFalse();
            }
        }

        /** Every holder lets go, round after round, with no time passing: every wait must be granted. */
        private void drain() throws java.io.IOException {
            for (int round = 0; round < 100 && !held.isEmpty(); round++) {
                for (String key : new TreeSet<>(held.keySet())) {
                    String session = key.substring(0, key.indexOf(' '));
                    TableDriver.Client c = clientOf(session);
                    apply(new Command.Release(
                            c.next(), held.get(key), Long.parseLong(key.substring(key.indexOf(' ') + 1))));
                }
            }
            long waiting = t.table().stats().waiters();
            assertThat(waiting)
                    .as("waits left once every holder let go (starved)")
                    .isZero();
            assertThat(LockTable.readSnapshot(new ByteArrayInputStream(t.snapshot()))
                            .stats()
                            .holds())
                    .isZero();
        }

        private TableDriver.Client clientOf(String session) {
            for (TableDriver.Client c : clients) {
                if (c.id.equals(session)) {
                    return c;
                }
            }
            throw new AssertionError("no client for " + session);
        }
    }
}
