package io.holdfast;

/**
 * The provider cannot honour this feature (for example deadlock detection on a store without a
 * wait-for graph). Thrown instead of silently ignoring the request. The message names the provider
 * and the feature; {@link LockClient#capabilities()} tells in advance.
 */
public class UnsupportedFeatureException extends HoldfastException {
    private static final long serialVersionUID = 1L;

    public UnsupportedFeatureException(String message) {
        super(ErrorCode.UNSUPPORTED, message, null);
    }

    public UnsupportedFeatureException(String message, Throwable cause) {
        super(ErrorCode.UNSUPPORTED, message, cause);
    }
}
