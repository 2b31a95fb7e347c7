package io.holdfast.server.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SessionOpenGateTest {
    @Test
    void noMoreThanTheBoundEnterAtOnceAndEachLeaveFreesAPlace() throws Exception {
        SessionOpenGate gate = new SessionOpenGate(50);
        AtomicInteger entered = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 100; i++) {
                    if (gate.enter() == null) {
                        entered.incrementAndGet();
                    }
                }
            });
            thread.start();
            threads.add(thread);
        }
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertThat(entered.get()).isEqualTo(50);
        assertThat(gate.inFlight()).isEqualTo(50);
        assertThat(gate.enter()).isNotNull();
        gate.leave();
        assertThat(gate.enter()).isNull();
        assertThat(gate.inFlight()).isEqualTo(50);
    }

    @Test
    void aBoundBelowOneIsRefused() {
        assertThatThrownBy(() -> new SessionOpenGate(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
