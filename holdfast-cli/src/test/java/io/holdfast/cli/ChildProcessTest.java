package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ChildProcessTest {
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "Cannot run program \"x\": error=2, No such file or directory | 127 | No such file or directory",
                "Cannot run program \"x\": Exec failed, error: 2 (No such file or directory) | 127 | No such file or directory",
                "Cannot run program \"x\": error=13, Permission denied | 126 | Permission denied",
                "Cannot run program \"x\": Exec failed, error: 13 (Permission denied) | 126 | Permission denied",
                "something else entirely | 126 | something else entirely",
            })
    void startFailuresMapToTheShellsCodesOnEveryJdk(String message, int code, String reason) {
        CliFailure failure = ChildProcess.cannotRun("x", new IOException(message));

        assertThat(failure.exitCode()).isEqualTo(code);
        assertThat(failure.getMessage()).isEqualTo("cannot run 'x': " + reason);
    }
}
