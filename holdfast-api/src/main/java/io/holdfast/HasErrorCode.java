package io.holdfast;

/**
 * Implemented by every exception Holdfast throws, so that callers can switch on one {@link
 * ErrorCode} whatever the Java type. Most of them extend {@link HoldfastException}; the two
 * ownership failures extend {@link IllegalMonitorStateException} instead, as {@code
 * java.util.concurrent.locks} does for unlocking a lock one does not hold.
 */
public interface HasErrorCode {
    /** The kind of failure. */
    ErrorCode code();
}
