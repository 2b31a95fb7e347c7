package io.holdfast.core;

import io.holdfast.model.ChangePosition;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;

/**
 * A bounded log of values at {@link ChangePosition}s (the log index of the entry that made each,
 * and its place among that entry's values), which knows from where it is complete: the one home of
 * positions and gaps for the table's changes ({@link ChangeLog}, which watches read) and the
 * server's events of each session (which HTTP clients read).
 *
 * <p><b>Guarantees.</b> {@link #after} returns the values at or after a position in the order they
 * were added, or null (a gap) when some of them are not here: they came before {@link #complete},
 * because the log was made or cleared there, or the oldest values were let go to keep at most
 * {@code capacity} values and {@code maxWeight} of their weight (the newest value is kept whatever
 * it weighs). Letting a value go moves {@link #complete} past it, so a gap is never hidden.
 *
 * <p><b>Does not</b> check that values come in position order (the caller adds them as the log
 * applies them), wake readers, or synchronise: its owner does both. Adding a value allocates
 * nothing but, while the log grows towards its capacity, a larger ring. An empty log holds no ring
 * (a server keeps one log per session, most of them empty: 8 slots cost 224 bytes each), and a log
 * that only counts its values ({@code maxWeight} at the maximum) keeps no weights.
 *
 * @param <T> the values; null is a value like any other
 */
public final class PositionedLog<T> {
    /**
     * One value and where it is.
     *
     * @param index the log index of the entry that made it
     * @param ordinal its place among that entry's values
     */
    public record Positioned<T>(long index, int ordinal, T value) {
        /** The position of the value. */
        public ChangePosition at() {
            return new ChangePosition(index, ordinal);
        }

        /** The position right after the value: where a reader that has it goes on from. */
        public ChangePosition next() {
            return new ChangePosition(index, ordinal + 1);
        }
    }

    private static final int FIRST_RING = 8;
    private static final long[] NO_INDEXES = new long[0];
    private static final int[] NO_INTS = new int[0];
    private static final Object[] NO_VALUES = new Object[0];

    private final int capacity;
    private final long maxWeight;
    private final ToIntFunction<? super T> weigher;
    private long[] indexes;
    private int[] ordinals;
    private Object[] values;
    private int[] weights;
    private int head;
    private int size;
    private long weight;
    private ChangePosition complete;

    /**
     * @param capacity the most values kept: the newest
     * @param maxWeight the most weight kept ({@code Long.MAX_VALUE}: values are only counted)
     * @param weigher the weight of a value (only called with {@code maxWeight} below the maximum)
     * @param complete every value from here on is added to it
     */
    public PositionedLog(int capacity, long maxWeight, ToIntFunction<? super T> weigher, ChangePosition complete) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, not " + capacity);
        }
        this.capacity = capacity;
        this.maxWeight = maxWeight;
        this.weigher = weigher;
        this.complete = complete;
        allocate(0);
    }

    /** A log of at most {@code capacity} values, complete from {@code complete}. */
    public PositionedLog(int capacity, ChangePosition complete) {
        this(capacity, Long.MAX_VALUE, v -> 0, complete);
    }

    /** Lets every value go: the log is complete from {@code from} on. */
    public void clear(ChangePosition from) {
        allocate(0);
        head = 0;
        size = 0;
        weight = 0;
        complete = from;
    }

    /**
     * Adds the value at ({@code index}, {@code ordinal}), after every value added before it, and lets
     * the oldest go while the log holds too many or too much.
     */
    public void add(long index, int ordinal, T value) {
        if (size == capacity) {
            evict();
        } else if (size == values.length) {
            grow();
        }
        int w = maxWeight == Long.MAX_VALUE ? 0 : weigher.applyAsInt(value);
        int slot = (head + size) % values.length;
        indexes[slot] = index;
        ordinals[slot] = ordinal;
        values[slot] = value;
        if (weighed()) {
            weights[slot] = w;
        }
        size++;
        weight += w;
        while (weight > maxWeight && size > 1) {
            evict();
        }
    }

    /**
     * The values at or after {@code from} that {@code filter} accepts, at most {@code limit}, in
     * order; or null if some values at or after {@code from} are not here (see the class comment).
     */
    public List<Positioned<T>> after(ChangePosition from, Predicate<? super T> filter, int limit) {
        if (from.compareTo(complete) < 0) {
            return null;
        }
        List<Positioned<T>> found = new ArrayList<>();
        for (int i = firstAtOrAfter(from); i < size && found.size() < limit; i++) {
            int slot = (head + i) % values.length;
            T value = value(slot);
            if (filter.test(value)) {
                found.add(new Positioned<>(indexes[slot], ordinals[slot], value));
            }
        }
        return found;
    }

    /** Every value before this position is let go, or never was here. */
    public ChangePosition complete() {
        return complete;
    }

    /** The position right after the newest value, or {@link #complete} if the log holds none. */
    public ChangePosition end() {
        if (size == 0) {
            return complete;
        }
        int slot = (head + size - 1) % values.length;
        return new ChangePosition(indexes[slot], ordinals[slot] + 1);
    }

    @SuppressWarnings("unchecked")
    private T value(int slot) {
        return (T) values[slot];
    }

    private void evict() {
        int slot = head;
        ChangePosition after = new ChangePosition(indexes[slot], ordinals[slot] + 1);
        weight -= weighed() ? weights[slot] : 0;
        values[slot] = null;
        head = (head + 1) % values.length;
        size--;
        if (complete.compareTo(after) < 0) {
            complete = after;
        }
    }

    /** Whether values have weights: a log bounded by weight as well as by count. */
    private boolean weighed() {
        return maxWeight != Long.MAX_VALUE;
    }

    private void allocate(int length) {
        indexes = length == 0 ? NO_INDEXES : new long[length];
        ordinals = length == 0 ? NO_INTS : new int[length];
        values = length == 0 ? NO_VALUES : new Object[length];
        weights = length == 0 || !weighed() ? NO_INTS : new int[length];
    }

    /** Makes the first ring, or doubles it (up to the capacity), its values first and in order. */
    private void grow() {
        long[] oldIndexes = indexes;
        int[] oldOrdinals = ordinals;
        Object[] oldValues = values;
        int[] oldWeights = weights;
        allocate((int) Math.min(capacity, Math.max(FIRST_RING, 2L * oldValues.length)));
        for (int i = 0; i < size; i++) {
            int from = (head + i) % oldValues.length;
            indexes[i] = oldIndexes[from];
            ordinals[i] = oldOrdinals[from];
            values[i] = oldValues[from];
            if (weighed()) {
                weights[i] = oldWeights[from];
            }
        }
        head = 0;
    }

    private int firstAtOrAfter(ChangePosition from) {
        int lo = 0;
        int hi = size;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            int slot = (head + mid) % values.length;
            int c = indexes[slot] != from.index()
                    ? Long.compare(indexes[slot], from.index())
                    : Integer.compare(ordinals[slot], from.ordinal());
            if (c < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
