package io.holdfast.spring.autoconfigure;

import io.holdfast.ClientOptions;
import io.holdfast.HoldfastException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.RetryPolicy;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.spring.HoldfastConfigurationException;
import io.holdfast.spring.HoldfastHealthIndicator;
import io.holdfast.spring.HoldfastMetrics;
import io.holdfast.spring.HoldfastProperties;
import io.holdfast.spring.LockObserver;
import io.holdfast.spring.integration.HoldfastLockRegistry;
import io.holdfast.spring.jobs.ClusterExclusiveAdvisor;
import io.holdfast.spring.jobs.ClusterExclusiveInterceptor;
import io.holdfast.spring.leader.ClusterLeaderBeans;
import io.holdfast.spring.leader.HoldfastLeaderInitiator;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import org.springframework.aop.config.AopConfigUtils;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.context.annotation.Role;
import org.springframework.core.type.AnnotationMetadata;
import org.springframework.integration.support.locks.LockRegistry;

/**
 * Holdfast for a Spring Boot application, from {@code holdfast.*} properties ({@link HoldfastProperties}):
 *
 * <ul>
 *   <li>a {@link LockClient} bean (unless the application defines one), opened at startup and closed at
 *       shutdown, so that the application's locks are given back at once rather than after the session TTL;
 *   <li>{@link io.holdfast.spring.jobs.ClusterExclusive} on any bean method;
 *   <li>with {@code holdfast.leader.election} set: a {@link HoldfastLeaderInitiator} that campaigns on it and runs
 *       the {@link io.holdfast.spring.leader.ClusterLeader} beans while this node leads;
 *   <li>with the actuator: the {@code holdfast} {@link HoldfastHealthIndicator};
 *   <li>with Micrometer: {@link HoldfastMetrics};
 *   <li>with Spring Integration: a {@link HoldfastLockRegistry} (unless the application defines a registry).
 * </ul>
 *
 * <p>A missing {@code holdfast.uri}, a value out of range, or a service that cannot be reached stops the
 * application at startup with the property or URI named ({@link HoldfastConfigurationException}).
 * {@code holdfast.enabled=false} switches everything off.
 */
@AutoConfiguration
@ConditionalOnClass(LockClient.class)
@ConditionalOnProperty(prefix = "holdfast", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(HoldfastProperties.class)
public class HoldfastAutoConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public LockClient holdfastLockClient(HoldfastProperties properties) {
        String uri = properties.getUri();
        if (uri == null || uri.isBlank()) {
            throw new HoldfastConfigurationException(
                    "holdfast.uri is not set: Holdfast does not know which lock service to use.",
                    "Set holdfast.uri (for example holdfast://10.0.0.1:4653,10.0.0.2:4653 or"
                            + " jdbc:postgresql://db/app), or set holdfast.enabled=false.",
                    null);
        }
        ClientOptions options = options(properties);
        try {
            return LockClient.open(uri.strip(), options);
        } catch (InvalidArgumentException e) {
            throw new HoldfastConfigurationException(
                    "holdfast.uri '" + HoldfastHealthIndicator.redact(uri) + "' is not usable: "
                            + withoutSecrets(e.getMessage(), uri),
                    "Check holdfast.uri, and that the provider for its scheme is on the class path.",
                    e);
        } catch (HoldfastException e) {
            throw new HoldfastConfigurationException(
                    "cannot open a Holdfast session at " + HoldfastHealthIndicator.redact(uri) + ": " + e.getMessage(),
                    "Start the lock service or fix holdfast.uri; the application needs it at startup.",
                    e);
        }
    }

    /** The providers quote the URI in their messages; credentials and query parameters must not reach logs. */
    private static String withoutSecrets(String message, String uri) {
        String m = String.valueOf(message);
        return m.replace(uri.strip(), HoldfastHealthIndicator.redact(uri.strip()));
    }

    private static ClientOptions options(HoldfastProperties p) {
        // Spring's lock registry, leader initiator and ShedLock expect a lost lock to be final, and
        // the health indicator reports a lost session as DOWN: the client ends with its session
        // (ADR 0004; a holdfast:// URI may still say ?renewSessions=true).
        ClientOptions.Builder b = ClientOptions.builder().renewSessions(false);
        set("holdfast.client-name", () -> {
            if (p.getClientName() != null) {
                b.clientName(p.getClientName());
            }
        });
        set("holdfast.session-ttl", () -> {
            if (p.getSessionTtl() != null) {
                b.sessionTtl(p.getSessionTtl());
            }
        });
        set("holdfast.request-timeout", () -> {
            Duration t = p.getRequestTimeout();
            if (t != null) {
                b.requestTimeout(t);
            }
        });
        set("holdfast.connect-timeout", () -> {
            if (p.getConnectTimeout() != null) {
                b.connectTimeout(p.getConnectTimeout());
            }
        });
        set("holdfast.lock-delay", () -> {
            if (p.getLockDelay() != null) {
                b.lockDelay(p.getLockDelay());
            }
        });
        HoldfastProperties.Retry r = p.getRetry();
        if (r.anySet()) {
            set("holdfast.retry", () -> {
                RetryPolicy d = RetryPolicy.defaults();
                b.retryPolicy(new RetryPolicy(
                        r.getInitialDelay() != null ? r.getInitialDelay() : d.initialDelay(),
                        r.getMaxDelay() != null ? r.getMaxDelay() : d.maxDelay(),
                        r.getMultiplier() != null ? r.getMultiplier() : d.multiplier(),
                        r.getJitter() != null ? r.getJitter() : d.jitter(),
                        r.getMaxAttempts() != null ? r.getMaxAttempts() : d.maxAttempts(),
                        r.getMaxElapsed() != null ? r.getMaxElapsed() : d.maxElapsed()));
            });
        }
        return b.build();
    }

    private static void set(String property, Runnable setter) {
        try {
            setter.run();
        } catch (InvalidArgumentException e) {
            throw new HoldfastConfigurationException(
                    property + ": " + e.getMessage(), "Change " + property + " to a value in range.", e);
        }
    }

    /** The advice for {@code @ClusterExclusive}, applied by the infrastructure auto-proxy creator. */
    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    public static ClusterExclusiveAdvisor holdfastClusterExclusiveAdvisor(
            ObjectProvider<LockClient> client,
            ObjectProvider<HoldfastProperties> properties,
            ObjectProvider<LockObserver> observer) {
        return new ClusterExclusiveAdvisor(new ClusterExclusiveInterceptor(client, properties, observer));
    }

    /** The initiator of {@code holdfast.leader.election}, unless the application defines one of this name. */
    @Bean
    @ConditionalOnProperty(prefix = "holdfast.leader", name = "election")
    @ConditionalOnMissingBean(name = "holdfastLeaderInitiator")
    public HoldfastLeaderInitiator holdfastLeaderInitiator(LockClient client, HoldfastProperties properties) {
        HoldfastProperties.Leader leader = properties.getLeader();
        String election = leader.getElection().strip();
        HoldfastLeaderInitiator initiator;
        try {
            initiator = new HoldfastLeaderInitiator(client, election, leader.getValue());
        } catch (InvalidArgumentException | UnsupportedFeatureException e) {
            throw new HoldfastConfigurationException(
                    "holdfast.leader.election '" + election + "' cannot be campaigned on: " + e.getMessage(),
                    e instanceof UnsupportedFeatureException
                            ? "Use a backend that offers FENCED_REGISTERS and INSPECT (see docs/elections.md)."
                            : "Change holdfast.leader.election or holdfast.leader.value.",
                    e);
        }
        set("holdfast.leader.retry-delay", () -> initiator.setRetryDelay(leader.getRetryDelay()));
        return initiator;
    }

    /** Hands each {@code @ClusterLeader} bean to the initiator of its election, or stops the start saying why. */
    @Bean
    public ClusterLeaderBeans holdfastClusterLeaderBeans(HoldfastProperties properties) {
        return new ClusterLeaderBeans(properties.getLeader().getElection());
    }

    /** Makes sure an auto-proxy creator exists (as {@code @EnableTransactionManagement} does), with class proxies. */
    @Configuration(proxyBeanMethods = false)
    @Import(AutoProxy.Registrar.class)
    static class AutoProxy {
        static class Registrar implements ImportBeanDefinitionRegistrar {
            @Override
            public void registerBeanDefinitions(AnnotationMetadata metadata, BeanDefinitionRegistry registry) {
                AopConfigUtils.registerAutoProxyCreatorIfNecessary(registry);
                AopConfigUtils.forceAutoProxyCreatorToUseClassProxying(registry);
            }
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterRegistry.class)
    static class Metrics {
        @Bean
        @ConditionalOnMissingBean
        HoldfastMetrics holdfastMetrics(ObjectProvider<LockClient> client) {
            return new HoldfastMetrics(client);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(HealthIndicator.class)
    static class Health {
        @Bean
        @ConditionalOnMissingBean(name = "holdfastHealthIndicator")
        HoldfastHealthIndicator holdfastHealthIndicator(LockClient client, HoldfastProperties properties) {
            Duration timeout = properties.getHealth().getTimeout();
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new HoldfastConfigurationException(
                        "holdfast.health.timeout must be positive, not " + timeout,
                        "Change holdfast.health.timeout (for example to 3s).",
                        null);
            }
            return new HoldfastHealthIndicator(
                    client,
                    properties.getUri(),
                    properties.getHealth().getProbe(),
                    properties.getHealth().getTimeout());
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(LockRegistry.class)
    static class Integration {
        @Bean
        @ConditionalOnMissingBean(LockRegistry.class)
        HoldfastLockRegistry holdfastLockRegistry(
                LockClient client, HoldfastProperties properties, ObjectProvider<LockObserver> observer) {
            return new HoldfastLockRegistry(
                    client,
                    properties.getLockRegistry().getPrefix(),
                    properties.getLockRegistry().getCapacity(),
                    observer.getIfAvailable(() -> LockObserver.NONE));
        }
    }
}
