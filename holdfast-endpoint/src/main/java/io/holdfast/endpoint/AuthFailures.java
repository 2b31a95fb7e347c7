package io.holdfast.endpoint;

import io.holdfast.Ticker;
import io.holdfast.internal.LineThrottle;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The failed authentications of one node, on every port that authenticates (the client port's
 * gRPC, the HTTP API, the TLS handshake of either): each counted by its reason (for {@code
 * holdfast_auth_failures_total{reason}}), and logged at WARN, at most once a minute per client
 * address, reason and, for a token whose signature passed (revoked, expired), identity ({@link
 * LineThrottle}, the engine of the "cannot reach member" lines).
 *
 * <p>The first failure of a client and reason after a quiet minute is one line naming the address,
 * the reason and the server's one-line refusal ({@code Refused authentication from 10.0.0.7
 * (expired-token): the bearer token of billing expired at …}); while failures go on, one line a
 * minute says how many there were since the last ({@code Still refusing authentication from …: 240
 * in the last 60s (last: …)}).
 *
 * <p><b>Guarantees.</b> Every failure is counted, whether or not it is logged. A line never holds
 * the token or any part of it: only the refusal's message, which names the token's identity once
 * its signature passed, its key id, its issuer or audience, never the token. A client that varies
 * its address or its token cannot grow the memory or the log beyond the throttle's bound. Counting
 * and logging never throw into the refused call.
 *
 * <p><b>Does not</b> count a call that the access rules refuse once authenticated (that is
 * {@code holdfast_refusals_total{reason="permission-denied"}}, applied on every replica and
 * audited for operator actions), keep counts across a restart, or tell one client behind a NAT
 * from another.
 *
 * <p><b>A failure it makes visible.</b> An identity provider rotated its signing key, and the JWKS
 * the nodes read still lacked the new one: every client with a new token was refused {@code
 * unknown-key}; before, nothing on the server said so, and no metric rose to alert on.
 */
public final class AuthFailures {
    private static final Logger LOG = LoggerFactory.getLogger(AuthFailures.class);
    /** The most client-and-reason pairs remembered for the once-a-minute lines. */
    static final int KEYS = 4_096;

    /** Why an authentication failed: the metric's {@code reason} label. */
    public enum Reason {
        /** Not a bearer token this server can read or accept: malformed, unsigned, another algorithm, issuer or audience, no identity or expiry, not valid yet, or a server without tokens. */
        BAD_TOKEN,
        /** A token past its expiry. */
        EXPIRED_TOKEN,
        /** A token whose key id the JWKS does not hold (after a read of it again). */
        UNKNOWN_KEY,
        /** A token whose signature does not verify with the key it names. */
        BAD_SIGNATURE,
        /** A token on the cluster's deny list ({@code holdfast token revoke}). */
        REVOKED_TOKEN,
        /** No certificate and no token, where the server requires one. */
        NO_CREDENTIALS,
        /** A client certificate the TLS handshake refused (not signed by the CA, expired, unusable). */
        REFUSED_CERTIFICATE;

        /** The metric's label value and the log's {@code reason}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    private final Map<Reason, LongAdder> counts = new EnumMap<>(Reason.class);
    private final LineThrottle throttle;

    /** @param ticker the clock of the once-a-minute rule */
    public AuthFailures(Ticker ticker) {
        this(ticker, Duration.ofMinutes(1));
    }

    AuthFailures(Ticker ticker, Duration every) {
        this.throttle = new LineThrottle(ticker, every, KEYS);
        for (Reason r : Reason.values()) {
            counts.put(r, new LongAdder());
        }
    }

    /**
     * Counts one failure and logs it unless a line about this client and reason was logged less
     * than a minute ago.
     *
     * @param from the client's address (host, no port: every connection has a new one), or a
     *     placeholder when unknown
     * @param why the refusal's one-line message (never the token)
     */
    public void refused(Reason reason, String from, String why) {
        refused(reason, from, null, why);
    }

    /**
     * As {@link #refused(Reason, String, String)}, for a token of {@code identity} (its signature
     * verified, so the name is the issuer's word, not the client's): its lines are its own, so
     * that two identities refused from one address (behind one NAT, one node, one CI runner) are
     * each said.
     *
     * @param identity whose token it was, or null when nobody can say (an unverified token)
     */
    public void refused(Reason reason, String from, String identity, String why) {
        counts.get(reason).increment();
        try {
            String client = identity == null ? from : from + " as " + identity;
            LineThrottle.Say say = throttle.occurred(client + " " + reason.label(), 1, why);
            if (say == null) {
                return;
            }
            String who = say.crowded() ? "many clients" : client;
            var line = LOG.atWarn()
                    .addKeyValue("event", "authentication-refused")
                    .addKeyValue("reason", reason.label())
                    .addKeyValue("from", say.crowded() ? who : from);
            if (identity != null && !say.crowded()) {
                line = line.addKeyValue("identity", identity);
            }
            if (say.first()) {
                line.log(
                        "Refused authentication from {} ({}): {} (said again at most once a minute while it lasts)",
                        who,
                        reason.label(),
                        why);
            } else {
                line.addKeyValue("count", say.count())
                        .log(
                                "Still refusing authentication from {} ({}): {} in the last {}s (last: {})",
                                who,
                                reason.label(),
                                say.count(),
                                say.since().toSeconds(),
                                say.detail());
            }
        } catch (RuntimeException e) {
            // a log line must not fail the refusal itself; the count above stands
        }
    }

    /**
     * Counts and logs a client certificate the TLS handshake refused: a {@link
     * io.holdfast.protocol.RefusedCertificates.Listener}, keyed by the certificate's subject (and
     * the client's host where the TLS layer knows it).
     */
    public void refusedCertificate(String who, String why) {
        refused(Reason.REFUSED_CERTIFICATE, who, "the TLS handshake refused its client certificate: " + why);
    }

    /** The failures of this reason since the node started. */
    public long count(Reason reason) {
        return counts.get(reason).sum();
    }

    /** Every reason's count (zero included), keyed by label, in the order of {@link Reason}. */
    public Map<String, Long> counts() {
        Map<String, Long> out = new LinkedHashMap<>();
        counts.forEach((r, n) -> out.put(r.label(), n.sum()));
        return out;
    }
}
