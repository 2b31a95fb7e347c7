package io.holdfast.cli;

import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Lets picocli read {@link Duration} options with {@link Durations#parse(String)}. */
final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        try {
            return Durations.parse(value);
        } catch (InvalidDurationException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
