package io.holdfast.server;

import java.util.concurrent.ThreadFactory;

/** Threads of a node: daemons with a name that says whose they are, so a thread dump reads. */
final class ServerThreads {
    private ServerThreads() {}

    /** Daemon threads, each named {@code name}. */
    static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
