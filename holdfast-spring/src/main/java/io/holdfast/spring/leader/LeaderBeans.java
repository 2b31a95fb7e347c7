package io.holdfast.spring.leader;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.Lifecycle;
import org.springframework.context.SmartLifecycle;

/**
 * The beans a {@link HoldfastLeaderInitiator} runs while its node leads: started lowest phase first, stopped in
 * the reverse order. A bean that fails to start undoes the start (the beans started so far are stopped); a bean
 * that fails to stop is logged, and the others still stop.
 */
final class LeaderBeans {
    private static final Logger log = LoggerFactory.getLogger(HoldfastLeaderInitiator.class);

    /** A bean and its name for the logs. */
    private record Member(String name, Lifecycle bean) {
        int phase() {
            return bean instanceof SmartLifecycle smart ? smart.getPhase() : 0;
        }
    }

    private final List<Member> members = new CopyOnWriteArrayList<>();

    void add(String name, Lifecycle bean) {
        members.add(new Member(name, Objects.requireNonNull(bean, "bean")));
    }

    List<Lifecycle> lifecycles() {
        return members.stream().map(Member::bean).toList();
    }

    /** Starts every bean; the started ones in order, or null (and none left running) if one failed. */
    List<Lifecycle> start(String election, long epoch, Duration retryDelay) {
        List<Member> ordered = new ArrayList<>(members);
        ordered.sort(Comparator.comparingInt(Member::phase));
        List<Lifecycle> started = new ArrayList<>();
        for (Member member : ordered) {
            try {
                if (!member.bean().isRunning()) {
                    member.bean().start();
                }
                started.add(member.bean());
            } catch (RuntimeException e) {
                log.error(
                        "election {}: bean '{}' failed to start (epoch {}); resigning, to campaign again in {}",
                        election,
                        member.name(),
                        epoch,
                        retryDelay,
                        e);
                stop(election, started);
                return null;
            }
        }
        return started;
    }

    /** Stops the beans {@link #start} returned, last started first. */
    void stop(String election, List<Lifecycle> started) {
        for (int i = started.size() - 1; i >= 0; i--) {
            Lifecycle bean = started.get(i);
            try {
                if (bean.isRunning()) {
                    bean.stop();
                }
            } catch (RuntimeException e) {
                log.warn("election {}: bean {} failed to stop", election, nameOf(bean), e);
            }
        }
    }

    private String nameOf(Lifecycle bean) {
        for (Member member : members) {
            if (member.bean() == bean) {
                return "'" + member.name() + "'";
            }
        }
        return String.valueOf(bean);
    }
}
