package io.holdfast.cli;

import io.holdfast.protocol.TlsFiles;
import io.holdfast.server.config.ServerConfig;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast health [--ready]}: asks a node's HTTP port for {@code /health} (the process
 * serves) or {@code /ready} (the node serves: Raft runs it and it knows a leader) and exits 0 on 200, else {@value
 * ExitCodes#BACKEND_UNAVAILABLE} with one line naming the address and the answer or the failure. A
 * probe for a container (an exec probe, a HEALTHCHECK) without curl: by default it asks the node that
 * the same environment and configuration file configure ({@code HOLDFAST_HTTP_PORT}, {@code
 * HOLDFAST_BIND}, {@code HOLDFAST_ID} and {@code HOLDFAST_PEERS}, {@code HOLDFAST_TLS_*}, then the file
 * named by {@code HOLDFAST_CONFIG}), as {@code holdfast server} reads them.
 */
@Command(
        name = "health",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Ask a node's HTTP port for /health (the process serves) or, with --ready, /ready (the node serves: Raft runs it"
                    + " and it knows a leader):"
                    + " a probe for containers, without curl.",
            "By default the node that this environment configures, as 'holdfast server' reads it: HOLDFAST_HTTP_PORT,"
                    + " HOLDFAST_BIND (else this node's host in HOLDFAST_PEERS, else 127.0.0.1), HTTPS with"
                    + " HOLDFAST_TLS_CERT, _KEY and _CA, then the file HOLDFAST_CONFIG names.",
            "Exit code: 0 the node answered 200; 69 it answered otherwise (503: not a running member yet, or no leader"
                    + " known; the answer says why) or could not be reached; 64 usage error."
        })
final class HealthCommand implements Callable<Integer>, Main.NeedsEnvironment {
    @Spec
    CommandSpec spec;

    private Map<String, String> env = Map.of();

    @Option(names = "--ready", description = "Ask /ready (the node serves) instead of /health.")
    boolean ready;

    @Option(
            names = "--url",
            paramLabel = "URL",
            description = "The node's HTTP port (http://host:4655, https with TLS) instead of the configured one.")
    URI url;

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            defaultValue = "5s",
            description = "How long connecting and the answer may take (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public void environment(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws InterruptedException {
        CallTimeout.positive(timeout);
        Settings settings = Settings.load(env);
        TlsFiles tls = settings.tls();
        URI base = url != null ? url : settings.url(tls != null);
        URI probe = base.resolve(ready ? "/ready" : "/health");
        HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(timeout);
        if (tls != null && "https".equals(probe.getScheme())) {
            client.sslContext(tls.sslContext());
        }
        HttpResponse<String> answer;
        try {
            answer = client.build()
                    .send(
                            HttpRequest.newBuilder(probe).timeout(timeout).GET().build(),
                            HttpResponse.BodyHandlers.ofString());
        } catch (HttpTimeoutException e) {
            throw new CliFailure(
                    ExitCodes.BACKEND_UNAVAILABLE, probe + " did not answer within " + Durations.format(timeout), e);
        } catch (ConnectException e) {
            throw new CliFailure(ExitCodes.BACKEND_UNAVAILABLE, "cannot reach " + probe + ": connection refused", e);
        } catch (IOException | IllegalArgumentException e) {
            throw new CliFailure(
                    ExitCodes.BACKEND_UNAVAILABLE, "cannot reach " + probe + ": " + Main.withRootCause(e), e);
        }
        String body = answer.body().strip();
        if (answer.statusCode() != 200) {
            throw new CliFailure(
                    ExitCodes.BACKEND_UNAVAILABLE, probe + " answered " + answer.statusCode() + " " + body);
        }
        return Main.printed(spec, body);
    }

    /** The settings of {@code holdfast server} that say where its HTTP port is: environment first, then the file. */
    private record Settings(Map<String, String> env, Properties file) {
        static Settings load(Map<String, String> env) {
            String name = env.get(ConfigDefaults.CONFIG_VARIABLE);
            return new Settings(env, name == null ? new Properties() : ConfigDefaults.read(Path.of(name)));
        }

        /** A setting by its option's long name without dashes: HOLDFAST_ON_ENV first, then the file; null if neither. */
        String get(String option) {
            String fromEnv = env.get(ConfigDefaults.variable(option));
            String value = fromEnv != null ? fromEnv : file.getProperty(option);
            return value == null || value.isBlank() ? null : value.strip();
        }

        /** The node's TLS files, or null when TLS is off (any of the three missing). */
        TlsFiles tls() {
            String cert = get("tls-cert");
            String key = get("tls-key");
            String ca = get("tls-ca");
            return cert == null || key == null || ca == null
                    ? null
                    : new TlsFiles(Path.of(cert), Path.of(key), Path.of(ca));
        }

        /**
         * The node's HTTP port as the server binds it: on its bind address unless that is a wildcard, else on its
         * host in the peers (the name its certificate carries), else on 127.0.0.1.
         */
        URI url(boolean https) {
            String port = get("http-port");
            int httpPort;
            try {
                httpPort = port == null ? ServerConfig.DEFAULT_HTTP_PORT : Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw new CliFailure(ExitCodes.USAGE, "the HTTP port is a number, not '" + port + "'", e);
            }
            if (httpPort == -1) {
                throw new CliFailure(ExitCodes.USAGE, "the node serves no HTTP port (http-port = -1): nothing to ask");
            }
            String host = get("bind");
            if (host == null || host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
                host = peerHost();
            }
            if (host.indexOf(':') >= 0 && !host.startsWith("[")) {
                host = "[" + host + "]";
            }
            return URI.create((https ? "https://" : "http://") + host + ":" + httpPort);
        }

        private String peerHost() {
            String peers = get("peers");
            if (peers == null) {
                return "127.0.0.1";
            }
            String id = get("id") == null ? "n1" : get("id");
            try {
                ServerConfig.Peer self = ServerConfig.parsePeers(peers).get(id);
                return self == null ? "127.0.0.1" : self.host();
            } catch (IllegalArgumentException e) {
                throw new CliFailure(ExitCodes.USAGE, "cannot read the peers '" + peers + "': " + e.getMessage(), e);
            }
        }
    }
}
