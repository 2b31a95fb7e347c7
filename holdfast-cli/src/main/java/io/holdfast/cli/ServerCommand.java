package io.holdfast.cli;

import io.holdfast.InvalidArgumentException;
import io.holdfast.cli.logging.ServerLogging;
import io.holdfast.core.AccessRules;
import io.holdfast.protocol.TlsFiles;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.RaftTransport;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast server}: runs one Holdfast node until it is stopped (Ctrl-C, SIGTERM). Alone by
 * default; with {@code --peers}, one member of a cluster. A node that cannot start prints one line
 * naming the problem and exits {@value ExitCodes#SERVER_START_FAILED}. A node removed from the members
 * ({@code holdfast members remove}) logs one INFO line saying so and how to take it back, and exits 0.
 */
@Command(
        name = "server",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Run a Holdfast server node: one node alone by default, or a member of a cluster with --peers.",
            "",
            "One node:   holdfast server",
            "A cluster:  holdfast server --id n1 --peers n1=127.0.0.1:4654,n2=127.0.0.1:5654,n3=127.0.0.1:6654 \\",
            "                --client-port 4653 --http-port 4655 --data-dir data/n1   (and likewise n2, n3)",
            "",
            "Exit code: 0 once removed from the members (holdfast members remove); 143 (130) after SIGTERM"
                    + " (SIGINT), the leadership handed over first; 64 bad options; 71 the node could not start or"
                    + " cannot go on (the line says why; a restart does not cure it)."
        })
final class ServerCommand implements Callable<Integer>, Main.NeedsEnvironment {
    @Spec
    CommandSpec spec;

    private Map<String, String> env = Map.of();
    /** Set on the copy that {@link #call()} parses again with the environment and the file. */
    private boolean configured;

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = {
                "Read options from this properties file: one 'option = value' line per option, the long name"
                        + " without its dashes (client-port = 4653, peers = n1=…, no-fsync = true)."
                        + " Also from the environment: HOLDFAST_<OPTION> (HOLDFAST_CLIENT_PORT=4653;"
                        + " HOLDFAST_CONFIG names the file). Precedence: command line, environment, file,"
                        + " default."
            })
    Path configFile;

    @Override
    public void environment(Map<String, String> env) {
        this.env = env;
    }

    @Option(names = "--id", defaultValue = "n1", description = "This node's id (default: ${DEFAULT-VALUE}).")
    String id;

    @Option(
            names = "--peers",
            paramLabel = "ID=HOST:RAFTPORT[:CLIENTPORT],...",
            description = {
                "Every member of the cluster, this node included. A member's client port is its Raft port"
                        + " minus one unless given; clients are sent to the leader there."
            })
    String peers;

    @Option(
            names = "--data-dir",
            defaultValue = "data",
            description = "Where the Raft log and snapshots live (default: ./${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(
            names = "--bind",
            paramLabel = "HOST",
            description = "The address to listen on (default: this node's host in --peers, else 127.0.0.1).")
    String bind;

    @Option(
            names = "--client-port",
            defaultValue = "4653",
            description = "Port for clients: frames and gRPC, or gRPC over TLS (default: ${DEFAULT-VALUE}).")
    int clientPort;

    @Option(
            names = "--raft-port",
            defaultValue = "4654",
            description = "Raft port of a single node (default: ${DEFAULT-VALUE}); with --peers it comes from there.")
    int raftPort;

    @Option(
            names = "--http-port",
            defaultValue = "4655",
            description = "HTTP port for the dashboard, the JSON API (/api/v1), Prometheus metrics (/metrics) and"
                    + " health probes (default: ${DEFAULT-VALUE}); -1 for none. HTTPS with TLS on.")
    int httpPort;

    @Option(
            names = "--election-timeout",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Shortest Raft election timeout (default: 300ms alone, 1s in a cluster).")
    Duration electionTimeout;

    @Option(names = "--raft-transport", description = "grpc (default) or netty, as every member (docs/server.md)")
    String raftTransport;

    @Option(
            names = "--no-fsync",
            description = "Acknowledge writes before they are flushed to disk: faster, but a power loss of the"
                    + " whole cluster can lose acknowledged locks.")
    boolean noFsync;

    @Option(
            names = "--tls-cert",
            paramLabel = "FILE",
            description = "This node's certificate (PEM). With --tls-key and --tls-ca it turns TLS on: the client"
                    + " port then speaks only TLS and the Raft port only mutual TLS between peers.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "The private key of --tls-cert (PKCS#8 PEM).")
    Path tlsKey;

    @Option(
            names = "--tls-ca",
            paramLabel = "FILE",
            description = "The CA certificate (PEM) that signed every peer's certificate and clients' certificates.")
    Path tlsCa;

    @Option(
            names = "--tls-client-auth",
            paramLabel = "none|optional|require",
            defaultValue = "optional",
            description = "Whether clients must present a certificate signed by --tls-ca (default: ${DEFAULT-VALUE}:"
                    + " checked when presented).")
    String tlsClientAuth;

    @Option(
            names = "--auth-rules",
            paramLabel = "FILE",
            description = {
                "Turn access control on (needs TLS): every client must authenticate with a client certificate"
                        + " (its common name) or a bearer token, and may do only what these rules allow (users,"
                        + " roles, per-prefix permissions, quotas; see docs/security.md). A new cluster starts with"
                        + " these rules; afterwards they change through the log (holdfast auth FILE)."
            })
    Path authRules;

    @Mixin
    TokenOptions tokenOptions;

    @Mixin
    LimitOptions limitOptions;

    @Option(
            names = "--log-format",
            paramLabel = "text|json",
            defaultValue = "text",
            description = "Log lines on stderr as text with key=value pairs at the end, or one JSON object per"
                    + " line (default: ${DEFAULT-VALUE}). Leader changes, session expiries, revokes and rule"
                    + " changes each get one line with event=… .")
    String logFormat;

    @Mixin
    BackupScheduleOptions backups;

    @Override
    public Integer call() throws Exception {
        if (!configured) {
            return reparsedWithDefaults().call();
        }
        if (!logFormat.equals("text") && !logFormat.equals("json")) {
            throw new CliFailure(ExitCodes.USAGE, "--log-format must be text or json, not '" + logFormat + "'");
        }
        // Before anything else is read: reading an option may load a class with a logger (the JWKS
        // of --token-jwks did), and logback configures itself at the first logger (ServerLogging).
        ServerLogging.configure(logFormat.equals("json"));
        ServerConfig config = config();
        // Every backup option checked, its key read, before the node starts: a bad one is a usage error.
        BackupScheduleOptions.Plan backupPlan = backups.plan(env, config.dataDir());
        HoldfastServer server;
        try {
            server = HoldfastServer.start(config);
        } catch (StartupException e) {
            backupPlan.close();
            throw new CliFailure(ExitCodes.SERVER_START_FAILED, e.getMessage(), e);
        }
        backupPlan.start(server);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            server.close();
                            stopped.countDown();
                        },
                        "holdfast-shutdown"));
        spec.commandLine().getOut().println(ServingBanner.line(config, server));
        spec.commandLine().getOut().flush();
        java.util.concurrent.atomic.AtomicReference<String> halted =
                new java.util.concurrent.atomic.AtomicReference<>();
        server.halted().thenAccept(reason -> {
            halted.set(reason);
            stopped.countDown();
        });
        // Removed from the members: the node logged one INFO line saying so; a clean stop, exit 0.
        server.removed().thenAccept(line -> stopped.countDown());
        stopped.await();
        if (halted.get() != null) {
            server.close();
            throw new CliFailure(ExitCodes.SERVER_START_FAILED, halted.get());
        }
        return ExitCodes.OK;
    }

    /**
     * This command parsed again from the same arguments, with the environment and the configuration
     * file as defaults: the file is known only once the command line is parsed, and values from
     * either then go through the same converters and checks as the command line's.
     */
    private ServerCommand reparsedWithDefaults() {
        Path file = configFile;
        if (file == null && env.get(ConfigDefaults.CONFIG_VARIABLE) != null) {
            file = Path.of(env.get(ConfigDefaults.CONFIG_VARIABLE));
        }
        ServerCommand copy = new ServerCommand();
        copy.env = env;
        copy.configured = true;
        picocli.CommandLine cl = new picocli.CommandLine(copy);
        cl.setOut(spec.commandLine().getOut());
        cl.setErr(spec.commandLine().getErr());
        cl.setDefaultValueProvider(ConfigDefaults.load(env, file, cl.getCommandSpec()));
        // The original arguments are the whole command line's: this command's own follow its name.
        java.util.List<String> args = spec.commandLine().getParseResult().originalArgs();
        int start = args.indexOf(spec.name()) + 1;
        try {
            cl.parseArgs(args.subList(start, args.size()).toArray(new String[0]));
        } catch (picocli.CommandLine.ParameterException e) {
            throw new CliFailure(
                    ExitCodes.USAGE,
                    e.getMessage() + " (from the environment or " + (file == null ? "" : file) + ")",
                    e);
        }
        return copy;
    }

    private ServerConfig config() {
        try {
            Map<String, ServerConfig.Peer> members;
            if (peers == null) {
                String host = bind == null ? "127.0.0.1" : bind;
                members = Map.of(id, new ServerConfig.Peer(host, raftPort, clientPort));
            } else {
                members = new LinkedHashMap<>(ServerConfig.parsePeers(peers));
                ServerConfig.Peer self = members.get(id);
                if (self != null
                        && self.clientPort() != clientPort
                        && spec.commandLine().getParseResult().hasMatchedOption("--client-port")) {
                    members.put(id, new ServerConfig.Peer(self.host(), self.raftPort(), clientPort));
                    spec.commandLine()
                            .getErr()
                            .printf(
                                    "holdfast server: note: the other members send clients to %s:%d for %s; write"
                                            + " %s=%s:%d:%d in --peers on every member to say otherwise%n",
                                    self.host(), self.clientPort(), id, id, self.host(), self.raftPort(), clientPort);
                }
            }
            ServerConfig.Peer self = members.get(id);
            String host = bind != null ? bind : self == null ? "127.0.0.1" : self.host();
            int port = self == null ? clientPort : self.clientPort();
            Duration election = electionTimeout != null
                    ? electionTimeout
                    : members.size() == 1 ? Duration.ofMillis(300) : Duration.ofSeconds(1);
            ServerConfig plain = new ServerConfig(id, members, dataDir, host, port, httpPort, !noFsync, election)
                    .withRaftTransport(
                            raftTransport == null ? RaftTransport.configured() : RaftTransport.parse(raftTransport));
            return withAuth(withTls(plain)).withQuotas(limitOptions.quotas());
        } catch (IllegalArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
    }

    private ServerConfig withAuth(ServerConfig config) {
        if (authRules == null && !tokenOptions.any()) {
            return config;
        }
        if (config.tls() == null) {
            throw new IllegalArgumentException((authRules != null
                            ? "--auth-rules"
                            : tokenOptions.tokenSecret != null ? "--token-secret" : "--token-jwks")
                    + " needs TLS on (--tls-cert, --tls-key, --tls-ca): identities and tokens must not cross the"
                    + " network in the clear");
        }
        try {
            AccessRules rules = null;
            if (authRules != null) {
                String text;
                try {
                    text = java.nio.file.Files.readString(authRules);
                } catch (java.io.IOException | RuntimeException e) {
                    throw new InvalidArgumentException("cannot read the access rules " + authRules + ": " + e);
                }
                rules = AccessRules.parse(text);
            }
            return config.withAuth(new ServerConfig.Auth(rules, tokenOptions.tokens()));
        } catch (InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.SERVER_START_FAILED, e.getMessage(), e);
        }
    }

    private ServerConfig withTls(ServerConfig plain) {
        if (tlsCert == null && tlsKey == null && tlsCa == null) {
            if (spec.commandLine().getParseResult().hasMatchedOption("--tls-client-auth")) {
                throw new IllegalArgumentException("--tls-client-auth needs TLS on (--tls-cert, --tls-key, --tls-ca)");
            }
            return plain;
        }
        if (tlsCert == null || tlsKey == null || tlsCa == null) {
            throw new IllegalArgumentException("TLS needs all three of --tls-cert, --tls-key and --tls-ca");
        }
        TlsFiles.ClientAuth auth;
        try {
            auth = TlsFiles.ClientAuth.valueOf(tlsClientAuth.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "--tls-client-auth is none, optional or require, not '" + tlsClientAuth + "'");
        }
        return plain.withTls(new TlsFiles(tlsCert, tlsKey, tlsCa), auth);
    }
}
