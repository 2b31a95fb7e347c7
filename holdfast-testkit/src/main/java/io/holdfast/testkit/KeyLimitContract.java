package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.KeyEntry;
import io.holdfast.Keys;
import io.holdfast.PutOptions;
import io.holdfast.QuotaExceededException;
import io.holdfast.Txn;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * What each store provider's test of the limit of keys attached to one session ({@link
 * Keys#MAX_KEYS_PER_SESSION}) checks, written once: that the limit is refused as the server refuses
 * it, atomically, and that the count the store keeps follows deletes, detaches, transactions and
 * other sessions. A provider's test subclasses it (a {@code @Nested} class beside the store it
 * starts) and opens {@link Keys} built with the limit {@link #LIMIT} in place of the API's, so that
 * the checks take seconds; {@link #aPutPastTheLimitIsRefusedAndWritesNothing} is there for the
 * provider's own test of what its store keeps once the session ends.
 */
public abstract class KeyLimitContract {
    /** The limit of keys per session the checks expect the keys they are given to keep. */
    public static final int LIMIT = 5;

    private static final byte[] VALUE = "v".getBytes(StandardCharsets.UTF_8);

    /** The keys of a new session that keep {@link #LIMIT}, and how to end that session. */
    public record Limited(Keys keys, Runnable close) {}

    /** Opens a client of a session of its own whose keys keep {@link #LIMIT} keys per session. */
    protected abstract Limited openLimited();

    /** The keys of another session, on the same store. */
    protected abstract Keys other();

    @Test
    void theCountOfKeysPerSessionFollowsDeletesDetachesAndTransactions() {
        Limited limited = openLimited();
        try {
            theCountFollowsDeletesDetachesAndTransactions(limited.keys(), other(), "count/");
        } finally {
            limited.close().run();
        }
    }

    @Test
    void twoThreadsOfOneSessionNeverPassTheLimitOfKeysPerSession() {
        Limited limited = openLimited();
        try {
            concurrentWritersOfOneSessionNeverPassTheLimit(limited.keys(), "race/");
        } finally {
            limited.close().run();
        }
    }

    private static PutOptions attached() {
        return PutOptions.any().attach();
    }

    private static String refusal(String session, long has) {
        return "session " + session + " owns " + has + " keys; the limit keys-per-session is " + LIMIT;
    }

    /**
     * A put that would attach one key too many is refused with {@link QuotaExceededException},
     * worded as the server words it, and writes nothing; so is a transaction, whole, naming its op;
     * writing a key that is attached already does not count it again, and a key not attached is not
     * limited. Attaches {@code prefix + "k0"} to {@code prefix + "k4"}.
     *
     * @param keys the keys of a session that keep {@link #LIMIT} and have none attached yet
     * @return the session's id
     */
    public static String aPutPastTheLimitIsRefusedAndWritesNothing(Keys keys, String prefix) {
        String session = fill(keys, prefix + "k", LIMIT);
        assertThat(keys.put(prefix + "k0", VALUE, attached()).version())
                .as("an attached key written again")
                .isEqualTo(2);
        assertThatThrownBy(() -> keys.put(prefix + "extra", VALUE, attached()))
                .isInstanceOf(QuotaExceededException.class)
                .hasMessage(refusal(session, LIMIT));
        assertThat(keys.get(prefix + "extra")).isEmpty();
        Txn over = Txn.when().then(Txn.put(prefix + "plain", VALUE), Txn.put(prefix + "extra", VALUE, attached()));
        assertThatThrownBy(() -> keys.commit(over))
                .isInstanceOf(QuotaExceededException.class)
                .hasMessage("then op 2: " + refusal(session, LIMIT));
        assertThat(keys.get(prefix + "plain")).as("the transaction's first op").isEmpty();
        assertThat(keys.put(prefix + "plain", VALUE).owner()).isNull();
        assertThat(attachedUnder(keys, prefix, session)).hasSize(LIMIT);
        return session;
    }

    /**
     * The count follows every change: a delete, a detach ({@link PutOptions#detach()}), an add
     * (which keeps the key attached), a transaction that makes room before it attaches (and one that
     * attaches before it makes room, refused, as the server checks op by op), and another session's
     * delete or detaching overwrite of a key of this one.
     *
     * @param other the keys of another session
     */
    private static void theCountFollowsDeletesDetachesAndTransactions(Keys keys, Keys other, String prefix) {
        String session = fill(keys, prefix + "k", LIMIT);
        String k = prefix + "k";
        keys.delete(k + "0");
        keys.put(prefix + "a1", VALUE, attached());
        keys.put(k + "1", VALUE, PutOptions.any().detach());
        keys.put(prefix + "a2", counter(0), attached());
        assertThat(keys.add(prefix + "a2", 5))
                .as("an add of an attached counter")
                .isEqualTo(5);
        assertThatThrownBy(() -> keys.put(prefix + "over", VALUE, attached()))
                .isInstanceOf(QuotaExceededException.class)
                .hasMessage(refusal(session, LIMIT));
        assertThat(keys.commit(Txn.when().then(Txn.delete(k + "2"), Txn.put(prefix + "a3", VALUE, attached())))
                        .succeeded())
                .isTrue();
        assertThatThrownBy(() ->
                        keys.commit(Txn.when().then(Txn.put(prefix + "a4", VALUE, attached()), Txn.delete(k + "3"))))
                .isInstanceOf(QuotaExceededException.class)
                .hasMessage("then op 1: " + refusal(session, LIMIT));
        other.delete(k + "3");
        keys.put(prefix + "a4", VALUE, attached());
        other.put(k + "4", VALUE, PutOptions.any().detach());
        keys.put(prefix + "a5", VALUE, attached());
        assertThat(attachedUnder(keys, prefix, session))
                .containsExactly(prefix + "a1", prefix + "a2", prefix + "a3", prefix + "a4", prefix + "a5");
        assertThatThrownBy(() -> keys.put(prefix + "over", VALUE, attached()))
                .isInstanceOf(QuotaExceededException.class);

        Txn.Op[] swap = new Txn.Op[2 * LIMIT];
        for (int i = 0; i < LIMIT; i++) {
            swap[i] = Txn.delete(prefix + "a" + (i + 1));
            swap[LIMIT + i] = Txn.put(prefix + "b" + i, VALUE, attached());
        }
        assertThat(keys.commit(Txn.when().then(swap)).succeeded()).isTrue();
        assertThat(attachedUnder(keys, prefix, session)).hasSize(LIMIT);
        assertThatThrownBy(() -> keys.put(prefix + "over", VALUE, attached()))
                .isInstanceOf(QuotaExceededException.class)
                .hasMessage(refusal(session, LIMIT));
    }

    /**
     * Two threads of one session racing for the places: exactly {@link #LIMIT} of their puts are
     * written, every other one is refused, and the session has {@link #LIMIT} keys attached.
     */
    private static void concurrentWritersOfOneSessionNeverPassTheLimit(Keys keys, String prefix) {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Integer>> writers = new ArrayList<>();
            for (String thread : List.of("x", "y")) {
                Callable<Integer> writer = () -> {
                    int written = 0;
                    for (int i = 0; i < LIMIT; i++) {
                        try {
                            keys.put(prefix + thread + i, VALUE, attached());
                            written++;
                        } catch (QuotaExceededException refused) {
                            // the other thread took the place
                        }
                    }
                    return written;
                };
                writers.add(pool.submit(writer));
            }
            int written = 0;
            for (Future<Integer> w : writers) {
                written += w.get();
            }
            assertThat(written).as("puts written of %d", 2 * LIMIT).isEqualTo(LIMIT);
            assertThat(keys.list(prefix).entries()).hasSize(LIMIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while the writers ran", e);
        } catch (ExecutionException e) {
            throw new AssertionError("a writer failed", e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Attaches {@code prefix + 0 .. n-1}; returns the session's id. */
    private static String fill(Keys keys, String prefix, int n) {
        String session = null;
        for (int i = 0; i < n; i++) {
            session = keys.put(prefix + i, i == 0 ? counter(0) : VALUE, attached())
                    .owner();
        }
        assertThat(session).as("an attached key's owner").isNotNull();
        return session;
    }

    private static List<String> attachedUnder(Keys keys, String prefix, String session) {
        return keys.list(prefix).entries().stream()
                .filter(e -> session.equals(e.owner()))
                .map(KeyEntry::key)
                .toList();
    }

    private static byte[] counter(long value) {
        return ByteBuffer.allocate(Long.BYTES).putLong(value).array();
    }
}
