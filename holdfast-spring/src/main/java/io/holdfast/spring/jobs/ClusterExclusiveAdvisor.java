package io.holdfast.spring.jobs;

import org.aopalliance.aop.Advice;
import org.springframework.aop.Pointcut;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;

/** Applies {@link ClusterExclusiveInterceptor} to every method annotated {@link ClusterExclusive}. */
public class ClusterExclusiveAdvisor extends AbstractPointcutAdvisor {
    private static final long serialVersionUID = 1L;

    private final transient ClusterExclusiveInterceptor interceptor;
    private final transient Pointcut pointcut = AnnotationMatchingPointcut.forMethodAnnotation(ClusterExclusive.class);

    public ClusterExclusiveAdvisor(ClusterExclusiveInterceptor interceptor) {
        this.interceptor = interceptor;
    }

    @Override
    public Pointcut getPointcut() {
        return pointcut;
    }

    @Override
    public Advice getAdvice() {
        return interceptor;
    }
}
