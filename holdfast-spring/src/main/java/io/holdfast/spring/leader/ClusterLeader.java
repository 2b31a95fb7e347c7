package io.holdfast.spring.leader;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs a bean only on the node that leads an election: the bean (a {@link
 * org.springframework.context.SmartLifecycle SmartLifecycle} or {@link org.springframework.context.Lifecycle
 * Lifecycle}) is started by the election's {@link HoldfastLeaderInitiator} when this node is elected, and stopped
 * when it loses or gives up the leadership. Put it on the bean's class or on its {@code @Bean} method:
 *
 * <pre>{@code
 * @Component
 * @ClusterLeader                                  // the election of holdfast.leader.election
 * class Scheduler implements SmartLifecycle {
 *     public boolean isAutoStartup() { return false; }   // the leader starts it, not the context
 *     ...
 * }
 * }</pre>
 *
 * <p><b>Guarantees.</b> The bean's {@code start()} is called by the initiator only while this node holds a
 * leadership of the election; {@code stop()} is called when that leadership ends (lost, or resigned when the
 * context stops), before the initiator publishes {@link LeadershipRevokedEvent} and before it resigns. A
 * misconfigured bean stops the application at startup, naming the bean: one that is not a {@code Lifecycle}, a
 * {@code SmartLifecycle} whose {@code isAutoStartup()} is true (the context would start it on every node), one
 * that is not a singleton, or one whose election no initiator campaigns on.
 *
 * <p><b>Not guaranteed.</b> That the bean has stopped before another node's copy starts: a node paused past its
 * session TTL (a long GC pause) runs on until it wakes and learns of the loss. Writes must carry the epoch
 * ({@link HoldfastLeaderInitiator#leadership()}) to a store that refuses stale ones. Nor does it stop a caller
 * from starting the bean by hand: an explicit {@code ConfigurableApplicationContext.start()} starts every
 * {@code Lifecycle} bean, this one included.
 *
 * <p><b>Failure story.</b> The leader's network is cut. After the session TTL the service expires its session
 * and elects the next node, which starts its copy of the bean with a higher epoch. The old leader's client
 * notices its own session is gone, the initiator stops the old copy, and the old copy's last writes, made with
 * the old epoch, are refused by the store.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface ClusterLeader {
    /**
     * The election: a {@link HoldfastLeaderInitiator} bean must campaign on it. Empty (the default) means the
     * election of {@code holdfast.leader.election}.
     */
    String value() default "";
}
