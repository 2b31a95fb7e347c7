package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code holdfast server --limit NAME=N}: a bad name or value is a usage error in one line, from
 * the command line, the environment or the configuration file alike; good ones pass (the node then
 * stops at its data directory under {@code /proc}, which shows the options were taken); with
 * {@code --auth-rules} they are refused in one line naming the fix.
 */
class LimitOptionsTest {
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(Map<String, String> env, String... args) {
        err.getBuffer().setLength(0);
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), env)
                .execute(args);
    }

    private String line() {
        return err.toString().lines().reduce((a, b) -> a + " | " + b).orElse("");
    }

    @Test
    void aBadNameOrValueIsAUsageErrorInOneLine() throws Exception {
        String data = dir.resolve("d").toString();
        assertThat(run(Map.of(), "server", "--data-dir", data, "--limit", "sessions-per-idenity=3"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .endsWith("--limit: unknown quota sessions-per-idenity; known: sessions-per-identity,"
                        + " holds-per-session, waits-per-session, waiters-per-lock, state-entries, register-bytes");

        assertThat(run(Map.of("HOLDFAST_LIMIT", "waits-per-session=0"), "server", "--data-dir", data))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .endsWith("--limit: quota waits-per-session must be a number from 1 to 2147483647, not 0");

        Path file = dir.resolve("holdfast.properties");
        Files.writeString(file, "limit = sessions-per-identity=200000,register-bytes=lots\n");
        assertThat(run(Map.of(), "server", "--config", file.toString(), "--data-dir", data))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .endsWith("--limit: quota register-bytes must be a number from 1 to 1099511627776, not lots");
    }

    @Test
    void goodLimitsPassFromTheCommandLineAndTheFile() throws Exception {
        assertThat(run(
                        Map.of(),
                        "server",
                        "--data-dir",
                        "/proc/holdfast-limit",
                        "--limit",
                        "sessions-per-identity=200000",
                        "--limit",
                        "waits-per-session=50,holds-per-session=20"))
                .as(this::line)
                .isEqualTo(ExitCodes.SERVER_START_FAILED);
        assertThat(line()).contains("/proc/holdfast-limit");

        Path file = dir.resolve("holdfast.properties");
        Files.writeString(file, "limit = sessions-per-identity=200000,waits-per-session=50\n");
        assertThat(run(Map.of(), "server", "--config", file.toString(), "--data-dir", "/proc/holdfast-limit"))
                .as(this::line)
                .isEqualTo(ExitCodes.SERVER_START_FAILED);
    }

    @Test
    void withAccessRulesTheLimitsAreRefusedNamingTheRulesLimitLines() throws Exception {
        assertThat(run(Map.of(), "certs", "--out", dir.toString())).isZero();
        Path rules = dir.resolve("rules.txt");
        Files.writeString(rules, "user ops root\nrole root admin *\n");
        assertThat(run(
                        Map.of(),
                        "server",
                        "--data-dir",
                        dir.resolve("d").toString(),
                        "--tls-cert",
                        dir.resolve("n1.pem").toString(),
                        "--tls-key",
                        dir.resolve("n1-key.pem").toString(),
                        "--tls-ca",
                        dir.resolve("ca.pem").toString(),
                        "--auth-rules",
                        rules.toString(),
                        "--limit",
                        "sessions-per-identity=3"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .endsWith("--limit sets the quotas while access control is off; with --auth-rules, write them as"
                        + " 'limit NAME N' lines in the rules file (docs/security.md)");
    }
}
