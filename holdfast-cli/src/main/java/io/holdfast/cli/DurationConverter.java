package io.holdfast.cli;

import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Lets picocli read {@link Duration} options with {@link Durations#parse(String)} ({@code 500ms}, {@code 30s},
 * {@code 2m}, ...), as every {@code holdfast} command does: {@code converter = DurationConverter.class}. A value
 * it cannot read is picocli's usage error, one line naming the option and the value (exit
 * {@link ExitCodes#USAGE}); the range a command accepts (not negative, not zero) is the command's to check.
 */
public final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        try {
            return Durations.parse(value);
        } catch (InvalidDurationException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
