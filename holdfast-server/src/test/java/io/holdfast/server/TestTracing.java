package io.holdfast.server;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;

/**
 * An OpenTelemetry SDK registered as the global one, exporting every finished span to memory at
 * once (no batching), for tests that read what the server traced. Only one may be installed at a
 * time in a JVM: {@link #install} resets the global first.
 */
public record TestTracing(OpenTelemetrySdk sdk, InMemorySpanExporter exporter) implements AutoCloseable {
    public static TestTracing install() {
        GlobalOpenTelemetry.resetForTest();
        InMemorySpanExporter exporter = InMemorySpanExporter.create();
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder()
                        .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                        .build())
                .buildAndRegisterGlobal();
        return new TestTracing(sdk, exporter);
    }

    @Override
    public void close() {
        sdk.close();
        GlobalOpenTelemetry.resetForTest();
    }
}
