package io.holdfast.model;

/**
 * A place in the order of changes: before the {@code ordinal}-th change (from 0) of the log
 * entry at {@code index}, after every change of earlier entries. Written {@code
 * "index.ordinal"}; a change's {@link io.holdfast.WatchEvent#position()} is the position right after it,
 * where its reader resumes.
 */
public record ChangePosition(long index, int ordinal) implements Comparable<ChangePosition> {
    public static final ChangePosition START = new ChangePosition(0, 0);

    @Override
    public int compareTo(ChangePosition o) {
        return index != o.index ? Long.compare(index, o.index) : Integer.compare(ordinal, o.ordinal);
    }

    /** Reads {@code "index.ordinal"}; null if it is not one. */
    public static ChangePosition parse(String text) {
        int dot = text == null ? -1 : text.indexOf('.');
        if (dot <= 0 || dot == text.length() - 1 || text.length() > 40) {
            return null;
        }
        try {
            long index = Long.parseLong(text.substring(0, dot));
            int ordinal = Integer.parseInt(text.substring(dot + 1));
            return index < 0 || ordinal < 0 ? null : new ChangePosition(index, ordinal);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return index + "." + ordinal;
    }
}
