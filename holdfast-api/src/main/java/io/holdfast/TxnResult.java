package io.holdfast;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link Keys#commit} did: which branch ran and each of its ops' results, in order.
 *
 * @param succeeded true when every compare held and {@link Txn#then()} ran; false when {@link
 *     Txn#otherwise()} ran
 * @param results one per op of the branch that ran
 */
public record TxnResult(boolean succeeded, List<OpResult> results) {
    public TxnResult {
        results = List.copyOf(results);
    }

    /**
     * One op's result.
     *
     * @param version a put's new version; a delete's version the key had (0: absent); an add's new
     *     version; a get's version (0: absent)
     * @param value a get's value; null for other ops and an absent key
     * @param counter an add's new value; else 0
     */
    public record OpResult(long version, byte[] value, long counter) {
        public OpResult {
            value = value == null ? null : value.clone();
        }

        /** A copy of a get's value; null when none. */
        @Override
        public byte[] value() {
            return value == null ? null : value.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof OpResult r
                    && version == r.version
                    && Arrays.equals(value, r.value)
                    && counter == r.counter;
        }

        @Override
        public int hashCode() {
            return Objects.hash(version, Arrays.hashCode(value), counter);
        }

        @Override
        public String toString() {
            return "OpResult[version " + version + (value == null ? "" : ", " + value.length + " bytes")
                    + (counter == 0 ? "" : ", counter " + counter) + "]";
        }
    }
}
