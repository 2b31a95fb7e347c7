package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.UnavailableException;
import io.holdfast.tls.CertificateAuthority;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What each provider's test against a secured store (TLS, authentication) checks, written once:
 * that clients get through and still exclude each other, and that a client the store refuses is told
 * why in one line, at open.
 */
public final class SecuredStoreChecks {
    private SecuredStoreChecks() {}

    /**
     * PEM files for a store's TLS test, from {@code holdfast certs}' certificate authority: a CA,
     * the store's certificate and key for {@code hosts}, a client's ({@code app}), and another CA's
     * certificate (one the store's certificate does not chain to).
     */
    public record Certificates(Path ca, Path server, Path serverKey, Path client, Path clientKey, Path otherCa) {
        /** Writes them under {@code dir} (made if missing), valid for a day. */
        public static Certificates write(Path dir, List<String> hosts) {
            CertificateAuthority ca = CertificateAuthority.create("store-test-ca", Duration.ofDays(1));
            ca.write(dir);
            ca.issue("store", hosts, Duration.ofDays(1)).write(dir, "store");
            ca.issue("app", List.of(), Duration.ofDays(1)).write(dir, "app");
            CertificateAuthority.create("other-ca", Duration.ofDays(1)).write(dir.resolve("other"));
            return new Certificates(
                    dir.resolve(CertificateAuthority.CA_CERT),
                    dir.resolve("store.pem"),
                    dir.resolve("store-key.pem"),
                    dir.resolve("app.pem"),
                    dir.resolve("app-key.pem"),
                    dir.resolve("other").resolve(CertificateAuthority.CA_CERT));
        }

        /** {@code ca=TRUSTED&cert=CLIENT&key=CLIENT_KEY}: the query of a client that trusts {@code trusted}. */
        public String clientQuery(Path trusted) {
            return "ca=" + trusted + "&cert=" + client + "&key=" + clientKey;
        }
    }

    /**
     * Two clients opened on {@code uri} exclude each other on {@code name}: the first holds it with a
     * positive fencing token, the second cannot take it until the first lets go.
     */
    public static void twoClientsExcludeEachOther(String uri, ClientOptions options, String name)
            throws InterruptedException {
        try (LockClient a = LockClient.open(uri, options);
                LockClient b = LockClient.open(uri, options)) {
            Lease held = a.lock(name).acquire(Duration.ofSeconds(5));
            assertThat(held.fencingToken()).isPositive();
            assertThat(b.lock(name).tryAcquire())
                    .as("the second client while the first holds it")
                    .isEmpty();
            held.release();
            assertThat(b.lock(name).tryAcquire())
                    .as("the second client once it is free")
                    .isPresent();
        }
    }

    /**
     * Opening {@code uri} fails with {@link UnavailableException} whose message is one line naming
     * {@code where} (the store's address) and {@code why} (the store's or the TLS layer's reason).
     */
    public static void openIsRefusedInOneLine(String uri, ClientOptions options, String where, String why) {
        assertThatThrownBy(() -> LockClient.open(uri, options).close())
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining(where)
                .hasMessageContaining(why)
                .satisfies(e -> assertThat(e.getMessage()).as("one line").doesNotContain("\n"));
    }
}
