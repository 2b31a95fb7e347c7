package io.holdfast.spring.leader;

import io.holdfast.spring.HoldfastConfigurationException;
import java.util.HashMap;
import java.util.Map;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.context.Lifecycle;
import org.springframework.context.SmartLifecycle;

/**
 * Hands every {@link ClusterLeader} bean to the {@link HoldfastLeaderInitiator} of its election, once the
 * context's singletons exist (before any is started). Registered by the auto-configuration.
 *
 * <p><b>Guarantees.</b> Each annotated bean is added to exactly one initiator, or the application does not start
 * and the failure names the bean and what to change ({@link HoldfastConfigurationException}): a bean that names
 * no election while {@code holdfast.leader.election} is unset; an election no initiator campaigns on; two
 * initiators on one election (they would compete inside one session); a bean that is not a {@link Lifecycle},
 * not a singleton, or a {@link SmartLifecycle} that the context itself would start ({@code isAutoStartup()}).
 *
 * <p><b>Not guaranteed.</b> Beans registered after startup, or defined in a parent context, are not found: add
 * them with {@link HoldfastLeaderInitiator#addLifecycle}.
 *
 * <p><b>Failure story.</b> A developer annotates a scheduler {@code @ClusterLeader} but keeps the default
 * {@code isAutoStartup() == true}: every node would run it from startup. The application refuses to start,
 * saying which bean and to return false from {@code isAutoStartup()}.
 */
public class ClusterLeaderBeans implements SmartInitializingSingleton, BeanFactoryAware {
    private final String defaultElection;
    private ListableBeanFactory beans;

    /** @param defaultElection the election of {@code @ClusterLeader} without a name; null if none is configured */
    public ClusterLeaderBeans(String defaultElection) {
        this.defaultElection = defaultElection == null || defaultElection.isBlank() ? null : defaultElection.strip();
    }

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        if (!(beanFactory instanceof ListableBeanFactory listable)) {
            throw new IllegalStateException("@ClusterLeader needs a ListableBeanFactory, not " + beanFactory);
        }
        this.beans = listable;
    }

    @Override
    public void afterSingletonsInstantiated() {
        Map<String, HoldfastLeaderInitiator> initiators = new HashMap<>();
        beans.getBeansOfType(HoldfastLeaderInitiator.class, false, false).forEach((name, initiator) -> {
            HoldfastLeaderInitiator other = initiators.put(initiator.getElection(), initiator);
            if (other != null) {
                throw new HoldfastConfigurationException(
                        "two HoldfastLeaderInitiator beans campaign on election '" + initiator.getElection()
                                + "' (one is '" + name + "')",
                        "Keep one initiator per election (holdfast.leader.election defines one).",
                        null);
            }
        });
        for (String name : beans.getBeanNamesForAnnotation(ClusterLeader.class)) {
            ClusterLeader annotation = beans.findAnnotationOnBean(name, ClusterLeader.class);
            if (annotation != null) {
                attach(name, annotation, initiators);
            }
        }
    }

    private void attach(String name, ClusterLeader annotation, Map<String, HoldfastLeaderInitiator> initiators) {
        String where = "@ClusterLeader bean '" + name + "'";
        String election = annotation.value().isBlank()
                ? defaultElection
                : annotation.value().strip();
        if (election == null) {
            throw new HoldfastConfigurationException(
                    where + " names no election, and holdfast.leader.election is not set",
                    "Set holdfast.leader.election, or name the election: @ClusterLeader(\"services/indexer\").",
                    null);
        }
        HoldfastLeaderInitiator initiator = initiators.get(election);
        if (initiator == null) {
            throw new HoldfastConfigurationException(
                    where + " follows election '" + election + "', but no HoldfastLeaderInitiator campaigns on it",
                    "Set holdfast.leader.election=" + election + ", or define a HoldfastLeaderInitiator bean for it.",
                    null);
        }
        if (!beans.isSingleton(name)) {
            throw new HoldfastConfigurationException(
                    where + " is not a singleton: the leader starts one instance",
                    "Remove its @Scope, or @ClusterLeader.",
                    null);
        }
        Object bean = beans.getBean(name);
        if (!(bean instanceof Lifecycle lifecycle)) {
            throw new HoldfastConfigurationException(
                    where + " (" + bean.getClass().getName() + ") is not a Lifecycle: the leader has nothing to start",
                    "Implement SmartLifecycle on it: start() begins its work, stop() ends it.",
                    null);
        }
        if (lifecycle instanceof SmartLifecycle smart && smart.isAutoStartup()) {
            throw new HoldfastConfigurationException(
                    where + " would be started by the context on every node (its isAutoStartup() is true)",
                    "Return false from isAutoStartup(): the leader starts it.",
                    null);
        }
        initiator.add(name, lifecycle);
    }
}
