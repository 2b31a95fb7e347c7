package io.holdfast.spring;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns a {@link HoldfastConfigurationException} at startup into Spring Boot's description-and-action report. */
class HoldfastFailureAnalyzer extends AbstractFailureAnalyzer<HoldfastConfigurationException> {
    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, HoldfastConfigurationException cause) {
        return new FailureAnalysis(cause.getMessage(), cause.action(), cause);
    }
}
