package io.holdfast.spring;

import io.holdfast.spring.leader.ClusterLeader;
import io.holdfast.spring.leader.HoldfastLeaderInitiator;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The example of docs/integrations.md ("Leader election: @ClusterLeader"), as written there: compiled here and
 * run by {@link LeaderInitiatorTest} on two nodes.
 */
@Component
@ClusterLeader // runs on the node that leads holdfast.leader.election
public class OutboxRelay implements SmartLifecycle {
    private final HoldfastLeaderInitiator leader;
    private ScheduledExecutorService timer;
    private volatile long epoch;

    public OutboxRelay(HoldfastLeaderInitiator leader) {
        this.leader = leader;
    }

    @Override
    public boolean isAutoStartup() {
        return false; // the leader starts it, not the context
    }

    @Override
    public synchronized void start() {
        epoch = leader.leadership().orElseThrow().epoch(); // higher than every earlier leader's
        timer = Executors.newSingleThreadScheduledExecutor();
        timer.scheduleWithFixedDelay(this::relay, 0, 1, TimeUnit.SECONDS);
    }

    @Override
    public synchronized void stop() {
        timer.shutdownNow();
        timer = null;
    }

    @Override
    public synchronized boolean isRunning() {
        return timer != null;
    }

    private void relay() {
        // send the outbox's next batch stamped with `epoch`: the receiver keeps the highest epoch it has seen
        // and refuses older ones, so a deposed leader that has not noticed yet changes nothing
    }
}
