package io.holdfast;

import io.holdfast.internal.RecordNumbers;
import java.util.Optional;

/**
 * Leader election over one name: candidates {@linkplain #campaign campaign}, one at a time leads,
 * and every leadership has an <em>epoch</em>, the fencing token of its grant, which only grows: a
 * store that remembers the highest epoch it has seen refuses a deposed leader's writes (what
 * Curator's and etcd's elections leave to the application).
 *
 * <p>Built from the provider's own primitives, so it works wherever they do ({@link
 * Capability#FENCED_REGISTERS} and {@link Capability#INSPECT}): who leads is the holder of the lock
 * {@link #name()}, and what the leader proclaims (its value, with its epoch) is the register of the
 * same name, written fenced by the leadership. Where the provider has {@link Capability#FAIR_QUEUE},
 * candidates win in the order they campaigned.
 *
 * <p><b>Guarantees.</b> At most one leadership of a name is valid at any moment, as for the lock it
 * stands on; each new one has a higher epoch than every earlier one; a leadership is lost (its
 * {@link Leadership#onLost} listeners told) when its session expires, an operator revokes the lock,
 * or it resigns. {@link #leader()} names the leader's epoch and, once it has proclaimed it, its
 * value.
 *
 * <p><b>Not guaranteed.</b> That a leader knows of its loss before another is elected: a leader
 * paused past its session TTL acts on until it runs again. Its epoch is what protects storage then:
 * write with {@link VersionedRegister#compareAndSet(long, byte[], Lease)} fenced by {@link
 * Leadership#lease()}, or check the epoch in the store.
 *
 * <p><b>Failure story.</b> The leader's process freezes in a long GC pause. Its session expires;
 * the next candidate is elected with a higher epoch and proclaims its value. The old leader wakes
 * and writes its report fenced by its leadership: the store refuses it ({@link ConflictException}),
 * and its {@link Leadership#onLost} listener has been told.
 */
public interface Election {
    /**
     * The most bytes of UTF-8 a leader's value may have: a register holds 64 KiB, and the epoch
     * goes in front of the value.
     */
    int MAX_VALUE_BYTES = 32 * 1024;

    /** The name: of the lock that decides who leads, and of the register that holds the leader's value. */
    String name();

    /**
     * Campaigns until elected or the options' wait runs out, then proclaims {@code value}.
     *
     * <p>A campaign under way when the client's session is lost campaigns again under the client's
     * next session (ADR 0004), within what is left of the wait; if it wins, it is with a new epoch.
     * A leadership won before the loss is lost with the session ({@link Leadership#onLost}) and is
     * not campaigned for again on the application's behalf: call this again.
     *
     * @param value what the leader tells observers (an address, a host name); at most 32 KiB of UTF-8
     * @throws LockTimeoutException if not elected within the wait (the candidacy is withdrawn)
     * @throws UnsupportedFeatureException if the provider lacks registers fenced by leases or
     *     inspection
     * @throws InterruptedException if interrupted while waiting (the candidacy is withdrawn)
     */
    Leadership campaign(String value, AcquireOptions options) throws InterruptedException;

    /**
     * Who leads now: the epoch of the current leadership and its value, or empty when nobody leads.
     * The value is null for a leader elected a moment ago that has not proclaimed it yet.
     *
     * @throws UnsupportedFeatureException if the provider lacks registers fenced by leases or
     *     inspection
     */
    Optional<Leader> leader();

    /**
     * Follows who leads: the listener is told who leads now (empty: nobody), then each change, in
     * epoch order: a new leader (its value null until it proclaims it, then told again with the
     * value), or nobody once the leader is gone. Runs until the returned watch is closed.
     *
     * <p>It stands on two watches ({@link LockClient#watch(WatchTarget, WatchListener)}): of the
     * lock, and of the register. Where the provider records its changes ({@link Capability#WATCH})
     * every leadership is told, even across reconnections; where watches poll, a leadership that
     * begins and ends between two reads is not.
     *
     * @throws UnsupportedFeatureException if the provider lacks registers fenced by leases or
     *     inspection
     */
    Watch observe(java.util.function.Consumer<Optional<Leader>> listener);

    /**
     * Who leads an election.
     *
     * @param election the election's name
     * @param epoch the leadership's epoch: the fencing token of its grant
     * @param value what it proclaimed, or null if it has not yet
     */
    record Leader(String election, long epoch, String value) {
        /**
         * What a leader proclaimed, read from the register of the election's name, which holds
         * {@code "<epoch>:<value>"} in UTF-8 (written fenced by the leadership, so never by a
         * deposed leader after its successor): the epoch in ASCII digits, no sign, at most {@link
         * Long#MAX_VALUE}; the value everything after the first colon (docs/protocol.md, with the
         * test vectors every client passes). Empty if the bytes are not one. The leader now is the
         * one whose epoch is the lock's current fencing token: an older proclamation stays in the
         * register until the next leader writes its own.
         */
        public static Optional<Leader> proclaimed(String election, byte[] register) {
            if (register == null) {
                return Optional.empty();
            }
            String text = new String(register, java.nio.charset.StandardCharsets.UTF_8);
            int colon = text.indexOf(':');
            long epoch = colon < 0 ? -1 : RecordNumbers.parse(text.substring(0, colon));
            return epoch < 0 ? Optional.empty() : Optional.of(new Leader(election, epoch, text.substring(colon + 1)));
        }
    }
}
