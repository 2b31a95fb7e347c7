package io.holdfast.cli;

import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;

/**
 * The one line {@code holdfast server} prints once its node serves: its id, where clients reach it
 * and how (TLS, access control), its Raft address, the dashboard's address, its data directory,
 * and a warning when fsync is off. Scripts and the docs' snippets wait for it; its first words
 * ("Holdfast node ID serving clients on") stay as they are.
 */
final class ServingBanner {
    private ServingBanner() {}

    static String line(ServerConfig config, HoldfastServer server) {
        return String.format(
                "Holdfast node %s serving clients on %s:%d%s (Raft %s, dashboard %s, data in %s%s). Ctrl-C stops"
                        + " it.",
                config.nodeId(),
                config.bindHost(),
                server.clientPort(),
                config.tls() == null
                        ? ""
                        : config.auth() != null && config.auth().required()
                                ? " over TLS, access control on"
                                : " over TLS",
                config.self().raftAddress(),
                server.httpPort() < 0
                        ? "off"
                        : (config.tls() == null ? "http://" : "https://")
                                + (config.bindHost().equals("0.0.0.0") ? "localhost" : config.bindHost())
                                + ":" + server.httpPort() + "/",
                config.dataDir(),
                config.fsync() ? "" : ", fsync OFF");
    }
}
