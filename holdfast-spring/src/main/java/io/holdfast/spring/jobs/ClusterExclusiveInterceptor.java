package io.holdfast.spring.jobs;

import io.holdfast.AcquireOptions;
import io.holdfast.LockClient;
import io.holdfast.spring.HoldfastProperties;
import io.holdfast.spring.LockObserver;
import java.lang.reflect.Method;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.annotation.AnnotatedElementUtils;

/** The advice behind {@link ClusterExclusive}: see there for what it does. */
public class ClusterExclusiveInterceptor implements MethodInterceptor {
    private final ObjectProvider<LockClient> client;
    private final ObjectProvider<HoldfastProperties> properties;
    private final ObjectProvider<LockObserver> observer;
    private final Map<Method, Job> jobs = new ConcurrentHashMap<>();

    public ClusterExclusiveInterceptor(
            ObjectProvider<LockClient> client,
            ObjectProvider<HoldfastProperties> properties,
            ObjectProvider<LockObserver> observer) {
        this.client = client;
        this.properties = properties;
        this.observer = observer;
    }

    /** One annotated method, read once. */
    private record Job(String name, String lockName, AcquireOptions options) {}

    @Override
    public Object invoke(MethodInvocation invocation) throws Throwable {
        Class<?> target = invocation.getThis() == null ? null : AopUtils.getTargetClass(invocation.getThis());
        Method method = AopUtils.getMostSpecificMethod(invocation.getMethod(), target);
        Job job = jobs.computeIfAbsent(method, this::describe);
        Optional<HoldfastJobs.Holder<Object>> result = HoldfastJobs.run(
                client.getObject(),
                job.lockName(),
                job.options(),
                observer.getIfAvailable(() -> LockObserver.NONE),
                job.name(),
                () -> {
                    try {
                        return invocation.proceed();
                    } catch (Exception | Error e) {
                        throw e;
                    } catch (Throwable t) {
                        throw new IllegalStateException(t);
                    }
                });
        return result.map(HoldfastJobs.Holder::value).orElse(null);
    }

    private Job describe(Method method) {
        ClusterExclusive a = AnnotatedElementUtils.findMergedAnnotation(method, ClusterExclusive.class);
        if (a == null) {
            throw new IllegalStateException("no @ClusterExclusive on " + method);
        }
        String where = "@ClusterExclusive on " + method.getDeclaringClass().getSimpleName() + "." + method.getName();
        if (method.getReturnType().isPrimitive() && method.getReturnType() != void.class) {
            throw new IllegalStateException(where + ": the method must return void or an object (a skipped run"
                    + " returns null), not " + method.getReturnType());
        }
        if (a.value().isBlank()) {
            throw new IllegalStateException(where + ": the job needs a name");
        }
        AcquireOptions options = AcquireOptions.waitUpTo(duration(where, "waitFor", a.waitFor()));
        if (!a.leaseTimeout().isBlank()) {
            options = options.withLeaseTimeout(duration(where, "leaseTimeout", a.leaseTimeout()));
        }
        HoldfastProperties p = properties.getIfAvailable(HoldfastProperties::new);
        return new Job(a.value(), p.getJobs().getPrefix() + a.value(), options);
    }

    private static Duration duration(String where, String attribute, String value) {
        try {
            return Duration.parse(value);
        } catch (DateTimeParseException e) {
            throw new IllegalStateException(
                    where + ": " + attribute + " must be an ISO-8601 duration such as PT30S, not '" + value + "'", e);
        }
    }
}
