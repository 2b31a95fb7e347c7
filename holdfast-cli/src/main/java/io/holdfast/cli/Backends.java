package io.holdfast.cli;

import java.util.Map;

/** Which backend a command talks to: {@code --backend}, else {@code $HOLDFAST_BACKEND}, else the local server. */
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
}
