package io.holdfast.protocol;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A server's trust manager that says which client certificates the TLS handshake refused: it
 * checks each client's chain as the one it wraps does and, when that one refuses it, tells the
 * {@link Listener} whose certificate it was and why before the handshake fails as before.
 *
 * <p>Guarantees: the verdict is the wrapped trust manager's, unchanged; the listener is called
 * once per refused chain and cannot turn a refusal into an acceptance (what it throws is dropped).
 * Does not see a client that presents no certificate where one is required (the TLS layer ends
 * that handshake before any trust manager is asked), nor the server side's checks.
 */
public final class RefusedCertificates extends X509ExtendedTrustManager {
    /** Told of each refused client certificate. */
    @FunctionalInterface
    public interface Listener {
        /**
         * @param who the certificate's subject ({@code CN=app,…}) and, where the TLS layer knows it,
         *     the client's host ({@code CN=app from 10.0.0.7})
         * @param why the trust manager's one-line reason, without Java class names
         */
        void refused(String who, String why);
    }

    private final X509ExtendedTrustManager trust;
    private final Listener listener;

    private RefusedCertificates(X509ExtendedTrustManager trust, Listener listener) {
        this.trust = trust;
        this.listener = listener;
    }

    /** {@code managers} with each X.509 one wrapped; {@code managers} itself when {@code listener} is null. */
    static TrustManager[] wrap(TrustManager[] managers, Listener listener) {
        if (listener == null || managers == null) {
            return managers;
        }
        TrustManager[] out = managers.clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i] instanceof X509ExtendedTrustManager x509) {
                out[i] = new RefusedCertificates(x509, listener);
            }
        }
        return out;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        try {
            trust.checkClientTrusted(chain, authType, socket);
        } catch (CertificateException e) {
            tell(
                    chain,
                    socket == null || socket.getInetAddress() == null
                            ? null
                            : socket.getInetAddress().getHostAddress(),
                    e);
            throw e;
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        try {
            trust.checkClientTrusted(chain, authType, engine);
        } catch (CertificateException e) {
            tell(chain, engine == null ? null : engine.getPeerHost(), e);
            throw e;
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        try {
            trust.checkClientTrusted(chain, authType);
        } catch (CertificateException e) {
            tell(chain, null, e);
            throw e;
        }
    }

    private void tell(X509Certificate[] chain, String host, CertificateException e) {
        try {
            String subject = chain == null || chain.length == 0
                    ? "a client certificate"
                    : chain[0].getSubjectX500Principal().getName();
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            int cut = why.indexOf('\n');
            listener.refused(
                    host == null ? subject : subject + " from " + host,
                    (cut < 0 ? why : why.substring(0, cut))
                            .replaceAll("\\b(?:[a-z_][\\w$]*\\.)+[A-Z][\\w$]*(?:Exception|Error): ", "")
                            .strip());
        } catch (RuntimeException ignored) {
            // the listener's failure must not change the handshake's verdict
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        trust.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        trust.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        trust.checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return trust.getAcceptedIssuers();
    }
}
