package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * The command lists of {@code holdfast --help} (and of every command with subcommands, {@code members},
 * {@code sessions}, ...): picocli shows a command's header, else the first element of its description, so each
 * must be a whole sentence, or the list cuts it mid-sentence (issue 51, finding 9: the {@code demo} line ended in
 * "with its fencing token,").
 */
class HelpTextTest {
    private static CommandLine main() {
        return Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), Map.of());
    }

    /** What picocli prints for the command in its parent's list. */
    private static String summary(CommandLine command) {
        UsageMessageSpec usage = command.getCommandSpec().usageMessage();
        if (usage.header().length > 0) {
            return usage.header()[0];
        }
        return usage.description().length > 0 ? usage.description()[0] : "";
    }

    @Test
    void everyCommandsSummaryInAListIsAWholeSentenceAndPrintedWhole() {
        SoftAssertions soft = new SoftAssertions();
        check(main(), soft);
        soft.assertAll();
    }

    private static void check(CommandLine parent, SoftAssertions soft) {
        if (parent.getSubcommands().isEmpty()) {
            return;
        }
        // Wrapping adds line breaks and indentation (and may break after a '.'): compare without whitespace.
        String shown = parent.getUsageMessage(CommandLine.Help.Ansi.OFF).replaceAll("\\s+", "");
        for (CommandLine sub : parent.getSubcommands().values()) {
            if (sub.getCommandSpec().usageMessage().hidden()) {
                continue;
            }
            String name = sub.getCommandSpec().qualifiedName();
            String summary = summary(sub).strip();
            soft.assertThat(summary).as("the summary of '%s'", name).matches("(?s).*[.)!?]$");
            soft.assertThat(shown)
                    .as(
                            "'%s' in the list of '%s --help'",
                            name, parent.getCommandSpec().qualifiedName())
                    .contains(summary.replaceAll("\\s+", ""));
            check(sub, soft);
        }
    }

    @Test
    void theDemoLineIsWhole() {
        StringWriter out = new StringWriter();
        CommandLine cl = main();
        cl.setOut(new PrintWriter(out, true));
        assertThat(cl.execute("--help")).isZero();
        assertThat(out.toString().replaceAll("\\s+", " "))
                .contains("demo Show locks at work: threads compete for a few locks, print each grant with its"
                        + " fencing token, then check the counters they protect.");
    }
}
