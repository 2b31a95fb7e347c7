package io.holdfast.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Values of a command's options from the environment and a configuration file, for options not
 * given on the command line. Precedence, highest first: the command line; an environment variable
 * {@code HOLDFAST_<OPTION>} (the long name upper-cased, dashes as underscores: {@code
 * HOLDFAST_CLIENT_PORT}); the file's {@code option = value} line (the long name without its dashes:
 * {@code client-port = 4653}); the built-in default. A flag such as {@code --no-fsync} takes {@code
 * true} or {@code false}.
 *
 * <p>Values go through the same converters and checks as the command line's. A key in the file
 * that names no option is refused, naming it (a misspelt setting must not be silently ignored).
 */
final class ConfigDefaults implements IDefaultValueProvider {
    /** The environment variable that names a configuration file, as {@code --config} does. */
    static final String CONFIG_VARIABLE = "HOLDFAST_CONFIG";

    private final Map<String, String> env;
    private final Map<String, String> file;
    private final Path path;

    private ConfigDefaults(Map<String, String> env, Map<String, String> file, Path path) {
        this.env = env;
        this.file = file;
        this.path = path;
    }

    /**
     * Defaults from {@code env} and from the properties file {@code path} (null: none), checked
     * against the options of {@code spec}.
     *
     * @throws CliFailure ({@value ExitCodes#USAGE}) for an unreadable file or an unknown key
     */
    static ConfigDefaults load(Map<String, String> env, Path path, CommandSpec spec) {
        Map<String, String> values = new HashMap<>();
        if (path != null) {
            Properties p = read(path);
            Set<String> known = new TreeSet<>();
            for (OptionSpec o : spec.options()) {
                if (configurable(o)) {
                    known.add(key(o));
                }
            }
            for (String k : p.stringPropertyNames()) {
                if (!known.contains(k)) {
                    throw new CliFailure(
                            ExitCodes.USAGE,
                            "the configuration file " + path + " sets '" + k + "', which is not an option of '"
                                    + spec.qualifiedName() + "' (settings: " + String.join(", ", known) + ")");
                }
                values.put(k, p.getProperty(k).strip());
            }
        }
        return new ConfigDefaults(Map.copyOf(env), values, path);
    }

    /**
     * The settings of the configuration file {@code path}, unchecked.
     *
     * @throws CliFailure ({@value ExitCodes#USAGE}) naming the file and why it cannot be read
     */
    static Properties read(Path path) {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (IOException | IllegalArgumentException e) {
            throw new CliFailure(
                    ExitCodes.USAGE, "cannot read the configuration file " + path + ": " + e.getMessage(), e);
        }
        return p;
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec o) || !configurable(o)) {
            return null;
        }
        String fromEnv = env.get(variable(o));
        if (fromEnv != null) {
            return fromEnv.strip();
        }
        return file.get(key(o));
    }

    /** Where a value came from, for messages: the variable or the file, or null if from neither. */
    String source(OptionSpec o) {
        if (env.containsKey(variable(o))) {
            return "environment variable " + variable(o);
        }
        return file.containsKey(key(o)) ? "configuration file " + path : null;
    }

    private static boolean configurable(OptionSpec o) {
        return !o.usageHelp() && !o.versionHelp() && !key(o).equals("config");
    }

    static String key(OptionSpec o) {
        return o.longestName().replaceFirst("^-+", "");
    }

    static String variable(OptionSpec o) {
        return variable(key(o));
    }

    /** The environment variable of the setting {@code key} (an option's long name without dashes). */
    static String variable(String key) {
        return "HOLDFAST_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
    }
}
