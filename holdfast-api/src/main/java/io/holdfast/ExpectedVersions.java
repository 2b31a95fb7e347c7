package io.holdfast;

/**
 * What a write's expected version means, and how a write that expected another version is
 * refused: one rule, which the server's lock table (its registers and keys) and every store
 * provider apply, so that a caller meets the same conflict, in the same words, whatever it talks
 * to.
 *
 * <p>A write ({@link VersionedRegister#compareAndSet}, a {@link Keys#put put} or {@link
 * Keys#delete delete} of a key, an op of a {@link Txn}) names the version it expects its key at: 0
 * for an absent key, {@link Keys#ANY_VERSION} for any. When the key is at another version the write
 * is refused with a {@link ConflictException} ({@link #REFUSED}) that carries the version found,
 * and nothing changes: {@code "config/db is at version 3, not 2"}, the version found first, then
 * the one expected. {@link #refusal} says it in those words; a refusal inside a transaction is the
 * same words after the op's label ({@code "then op 2: k is at version 1, not 7"}).
 *
 * <p>Guarantees: every method is pure and thread-safe. Does not read or write a key: a provider
 * applies the rule to the version it read, in the step that writes. Other conflicts (a fencing
 * token no longer current) have words of their own.
 */
public final class ExpectedVersions {
    /** The error code of a refused write: {@link ConflictException}. */
    public static final ErrorCode REFUSED = ErrorCode.CONFLICT;

    private ExpectedVersions() {}

    /**
     * Whether a write that expected {@code expected} may write a key at {@code version}.
     *
     * @param expected the write's expected version (0: absent), or {@link Keys#ANY_VERSION}
     * @param version the key's version; 0 when it is absent
     */
    public static boolean matches(long expected, long version) {
        return expected == Keys.ANY_VERSION || expected == version;
    }

    /**
     * Why a write that expected {@code expected} is refused at a key at {@code version}, or null
     * when it {@link #matches}.
     *
     * @return {@code "K is at version V, not E"}, or null
     */
    public static String refusal(String key, long expected, long version) {
        return matches(expected, version)
                ? null
                : conflict(key, expected, version).getMessage();
    }

    /**
     * The refusal of a write that expected {@code expected} at a key found at {@code version}, for
     * a caller whose store answered "not written" with the version it found.
     *
     * @return a {@link ConflictException} {@code "K is at version V, not E"}, carrying {@code
     *     version}
     */
    public static ConflictException conflict(String key, long expected, long version) {
        return new ConflictException(key + " is at version " + version + ", not " + expected, version);
    }

    /**
     * Refuses a write that expected {@code expected} at a key at {@code version}.
     *
     * @throws ConflictException in {@link #refusal}'s words, carrying {@code version}, unless it
     *     {@link #matches}
     */
    public static void check(String key, long expected, long version) {
        if (!matches(expected, version)) {
            throw conflict(key, expected, version);
        }
    }
}
