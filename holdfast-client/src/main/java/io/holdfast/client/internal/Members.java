package io.holdfast.client.internal;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.holdfast.InvalidArgumentException;
import io.holdfast.protocol.GrpcErrors;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The members a {@link ClusterTransport} knows, one channel each, and the member its calls go to:
 * its <b>home</b> (ADR 0003), or, for a transport that follows the leader, its belief of which
 * member leads. {@link #leader()} is that member either way.
 *
 * <p><b>A home.</b> Picked at random among the members given, with the generator given (so a fleet
 * spreads evenly, and a test can seed it). It changes only when it fails its client: {@link
 * #moveOnFrom} (a broken connection, a deadline) and {@link #moveHomeTo} (another member
 * acknowledged a heartbeat that the home answered {@code UNAVAILABLE}); never because a leader
 * changed, so {@link #noteLeader} leaves it. {@link #followLeader} ends the home for good: a home
 * whose build does not serve sessions at every member sent a write or a heartbeat to the leader.
 * {@link #moves()} counts the changes.
 *
 * <p><b>Guarantees.</b> The members are kept in the order given, without duplicates; members that
 * a {@code holdfast-leader} hint names are added last, up to {@value #MAX_MEMBERS} in all (against
 * a confused cluster), and never once {@link #markClosed} has been called, so that {@link
 * #closeChannels} closes every channel ever made. The leader belief starts at the first member and
 * only changes through {@link #noteLeader} and {@link #moveOnFrom}; each change runs the {@code
 * leaderMoved} action once (the event streams follow the leader).
 *
 * <p><b>Does not guarantee</b> that the believed leader leads: a hint or a successful {@code
 * Submit} makes the transport believe it, and the next call that a member refuses corrects it. A
 * hint that names no address ({@code "not-an-address"}) is ignored, not an error: the call then
 * moves on to the next member it has not tried.
 */
final class Members {
    /** Members learnt from leader hints are added up to this many, against a confused cluster. */
    static final int MAX_MEMBERS = 64;

    private final List<Member> members = new CopyOnWriteArrayList<>();
    private final MemberChannels channels;
    private final Runnable leaderMoved;
    private volatile Member leader;
    private volatile boolean closed;
    /** Whether {@link #leader} is a home (ADR 0003) rather than the believed leader. */
    private volatile boolean home;
    /** Picks a home: the first, and each one after a home failed; null while following the leader. */
    private final java.util.random.RandomGenerator homeChoice;
    /** How many times the member calls go to changed while it was a home. */
    private final java.util.concurrent.atomic.AtomicInteger moves = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * @param addresses the members to start from; at least one
     * @param leaderMoved run after each change of the leader belief, on the thread that changed it
     * @throws InvalidArgumentException if there is no address
     */
    Members(List<MemberAddress> addresses, MemberChannels channels, Runnable leaderMoved) {
        this(addresses, channels, leaderMoved, null);
    }

    /**
     * @param homeChoice picks the home among the addresses; null to follow the leader instead
     */
    Members(
            List<MemberAddress> addresses,
            MemberChannels channels,
            Runnable leaderMoved,
            java.util.random.RandomGenerator homeChoice) {
        if (addresses.isEmpty()) {
            throw new InvalidArgumentException("a Holdfast cluster needs at least one member address");
        }
        this.channels = channels;
        this.leaderMoved = leaderMoved;
        for (MemberAddress a : addresses) {
            if (members.stream().noneMatch(m -> m.address.equals(a))) {
                members.add(new Member(a, channels.open(a)));
            }
        }
        this.homeChoice = homeChoice;
        this.home = homeChoice != null;
        this.leader = home ? members.get(homeChoice.nextInt(members.size())) : members.get(0);
    }

    /** One server: its address and channel. */
    static final class Member {
        final MemberAddress address;
        final ManagedChannel channel;

        Member(MemberAddress address, ManagedChannel channel) {
            this.address = address;
            this.channel = channel;
        }

        @Override
        public String toString() {
            return address.toString();
        }
    }

    /** The members known, in the order given (learnt ones last). */
    List<MemberAddress> addresses() {
        return members.stream().map(m -> m.address).toList();
    }

    int size() {
        return members.size();
    }

    /** The member believed to lead. */
    Member leader() {
        return leader;
    }

    boolean isClosed() {
        return closed;
    }

    /** Believe that this member leads; event streams follow. A home stays where it is. */
    void noteLeader(Member m) {
        if (!home && leader != m) {
            leader = m;
            leaderMoved.run();
        }
    }

    /**
     * After a failure of this member without a better idea: a home moves to another member picked
     * as the first one was, counting on from its successor (so that the clients of a member that
     * dies spread over the others: all moving to its successor put twice its share on one member,
     * which a fleet generator saw on 2026-11-29; with {@code calls=first}, whose picks are all 0,
     * the home walks the list, so that two dead members in a row do not keep it between them);
     * while following the leader, the next call starts at its successor.
     */
    void moveOnFrom(Member m) {
        if (leader == m) {
            int i = members.indexOf(m);
            int n = members.size();
            int k = home && n > 1 ? homeChoice.nextInt(n - 1) : 0; // which of the others
            moveTo(members.get((i + 1 + k) % n));
        }
    }

    /** Another member acknowledged a heartbeat that the home failed: it is the home from now on. */
    void moveHomeTo(Member m) {
        if (home && leader != m) {
            moveTo(m);
        }
    }

    /**
     * The home's build does not serve sessions at every member (it named the leader for a write or
     * a heartbeat): follow the leader from now on, starting at {@code leader}.
     */
    void followLeader(Member leaderNamed) {
        home = false;
        noteLeader(leaderNamed);
    }

    /** Whether calls go to a home rather than to the believed leader. */
    boolean isHome() {
        return home;
    }

    /** How many times the home moved (0 for a transport that follows the leader). */
    int moves() {
        return moves.get();
    }

    private void moveTo(Member m) {
        if (leader != m) {
            if (home) {
                moves.incrementAndGet();
            }
            leader = m;
            leaderMoved.run();
        }
    }

    /** The member a {@code holdfast-leader} hint names (added if new), or null for a useless hint. */
    Member memberFor(String hint) {
        if (hint == null) {
            return null;
        }
        MemberAddress address;
        try {
            address = MemberAddress.parse(hint, false);
        } catch (InvalidArgumentException bad) {
            return null;
        }
        synchronized (members) {
            for (Member m : members) {
                if (m.address.equals(address)) {
                    return m;
                }
            }
            if (closed || members.size() >= MAX_MEMBERS) {
                return null;
            }
            Member added = new Member(address, channels.open(address));
            members.add(added);
            return added;
        }
    }

    /** The leader a failed call's trailers name, if any. */
    Member hintedLeader(Throwable failure) {
        Metadata trailers = Status.trailersFromThrowable(failure);
        return trailers == null ? null : memberFor(trailers.get(GrpcErrors.LEADER));
    }

    /**
     * The member a call tries next, not in {@code tried}: the home, if it moved away from {@code
     * after}; else the first member after {@code after}, in order and wrapping around; or null.
     */
    Member nextUntried(Member after, Set<Member> tried) {
        Member current = leader;
        if (home && current != after && !tried.contains(current)) {
            return current; // the home, wherever it moved
        }
        int start = members.indexOf(after);
        int n = members.size();
        for (int i = 1; i <= n; i++) {
            Member m = members.get((start + i) % n);
            if (!tried.contains(m)) {
                return m;
            }
        }
        return null;
    }

    /** From now on no call starts and no member is added; the channels stay open until {@link #closeChannels}. */
    void markClosed() {
        closed = true;
    }

    /** Lets calls in flight finish for up to a second, then cuts them. */
    void closeChannels() {
        synchronized (members) { // no member is added after this (memberFor checks `closed`)
            members.forEach(m -> m.channel.shutdown());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        try {
            for (Member m : members) {
                m.channel.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            members.forEach(m -> m.channel.shutdownNow());
        }
    }
}
