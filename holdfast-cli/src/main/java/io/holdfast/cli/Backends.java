package io.holdfast.cli;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.internal.Redaction;
import io.holdfast.spi.LockProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/** Which backend a command talks to ({@code --backend}, else {@code $HOLDFAST_BACKEND}, else the local server), and opening it. */
final class Backends {
    /** The environment variable consulted when {@code --backend} is not given. */
    static final String ENV = "HOLDFAST_BACKEND";

    /** The server's default client address. */
    static final String DEFAULT = "holdfast://127.0.0.1:4653";

    private Backends() {}

    static String resolve(String flag, Map<String, String> env) {
        if (flag != null) {
            if (flag.isBlank()) {
                throw new CliFailure(ExitCodes.USAGE, "--backend is empty (give a URI such as " + DEFAULT + ")");
            }
            return flag.strip();
        }
        String fromEnv = env.get(ENV);
        return fromEnv == null || fromEnv.isBlank() ? DEFAULT : fromEnv.strip();
    }

    /** Whether a provider on the class path accepts {@code uri}; the names of all providers go to {@code names}. */
    static boolean hasProvider(String uri, List<String> names) {
        boolean found = false;
        for (LockProvider provider : ServiceLoader.load(LockProvider.class, LockClient.class.getClassLoader())) {
            names.add(provider.name());
            found |= provider.accepts(uri);
        }
        return found;
    }

    /**
     * Opens a client for {@code uri}. No provider for it is a usage error (one line naming the providers there
     * are); an unreachable backend is {@link ExitCodes#BACKEND_UNAVAILABLE}, through {@link Main}'s handler,
     * within the default connect timeout ({@link ClientOptions#connectTimeout()}, 5 s) for {@code holdfast://}.
     */
    static LockClient open(String uri) {
        return open(uri, ClientOptions.defaults());
    }

    /**
     * As {@link #open(String)}, with these options, and never renewing its session ({@code
     * renewSessions(false)}, ADR 0004): a command ends with its session ({@code kv put --attach} and
     * {@code kv watch} exit 69, {@code elect} 76, {@code lock} stops its child), as docs/cli.md says.
     */
    static LockClient open(String uri, ClientOptions options) {
        List<String> names = new ArrayList<>();
        if (!hasProvider(uri, names)) {
            throw new CliFailure(
                    ExitCodes.USAGE,
                    "no backend in this build accepts '" + Redaction.uri(uri) + "' (providers here: "
                            + (names.isEmpty() ? "none" : String.join(", ", names)) + ")");
        }
        return LockClient.open(uri, options.toBuilder().renewSessions(false).build());
    }
}
