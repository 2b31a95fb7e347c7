package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.Keys;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.client.MemProvider;
import io.holdfast.model.Command;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.Transaction;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A key write whose answer was lost is sent again under the same invocation, and the service
 * answers the retry with the first answer: the write applies once (the conformance scenario "a
 * transaction retried after a lost answer applies once", for the Java client).
 */
class RuntimeKeysTest {
    private FaultyService flaky;
    private ClientRuntime client;
    private Keys keys;

    @BeforeEach
    void start() {
        LocalNode node = LocalNode.named("keys-" + UUID.randomUUID().toString().substring(0, 8));
        flaky = new FaultyService(new LocalTransport(node));
        client = ClientRuntime.open(
                "mem", flaky, ClientOptions.builder().clientName("keys").build(), MemProvider.CAPABILITIES);
        keys = client.keys();
    }

    @AfterEach
    void stop() {
        flaky.heal();
        client.close();
    }

    /** The next command of this type is applied and its answer lost; its retry is answered. */
    private void loseTheNextAnswerOf(Class<? extends Command> type) {
        AtomicBoolean lost = new AtomicBoolean();
        flaky.loseAnswers(c -> type.isInstance(c) && lost.compareAndSet(false, true));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aTransactionWhoseAnswerWasLostAppliesOnce() {
        loseTheNextAnswerOf(Transaction.class);
        TxnResult result = keys.commit(Txn.when(Txn.absent("t/a")).then(Txn.put("t/a", bytes("x")), Txn.add("t/n", 1)));
        assertThat(result.succeeded())
                .as("the first answer, not the retry's other branch")
                .isTrue();
        assertThat(result.results()).extracting(TxnResult.OpResult::counter).containsExactly(0L, 1L);
        assertThat(keys.get("t/n").orElseThrow().counter()).isEqualTo(1);
    }

    @Test
    void aCounterAddWhoseAnswerWasLostAddsOnce() {
        loseTheNextAnswerOf(CounterAdd.class);
        assertThat(keys.add("c/n", 5)).isEqualTo(5);
        assertThat(keys.get("c/n").orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void aPutAndADeleteWhoseAnswersWereLostApplyOnce() {
        loseTheNextAnswerOf(Transaction.class);
        assertThat(keys.put("p/k", bytes("v")).version()).isEqualTo(1);
        loseTheNextAnswerOf(KeyDelete.class);
        assertThat(keys.delete("p/k"))
                .as("the version the key had, not the retry's 0")
                .isEqualTo(1);
    }
}
