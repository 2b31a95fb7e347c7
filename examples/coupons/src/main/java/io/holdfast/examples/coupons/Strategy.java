package io.holdfast.examples.coupons;

import java.util.Locale;

/** How an instance keeps two redemptions of one campaign from trampling each other. */
public enum Strategy {
    /**
     * A Holdfast lock per campaign; its fencing token is written to the campaign row before the
     * instance reads, and the write only applies while the row still carries that token.
     */
    PESSIMISTIC("pessimistic", "a Holdfast lock per campaign, its fencing token checked in the UPDATE"),
    /** No lock: the write only applies if the campaign row's version is the one that was read; else retry. */
    OPTIMISTIC("optimistic", "a version column compared in the UPDATE, retried with backoff on conflict"),
    /** Read, then write, and hope: what goes wrong without coordination. */
    NONE("none", "no coordination: read, then write");

    private final String flag;
    private final String summary;

    Strategy(String flag, String summary) {
        this.flag = flag;
        this.summary = summary;
    }

    /** The name on the command line: {@code pessimistic}, {@code optimistic}, {@code none}. */
    public String flag() {
        return flag;
    }

    /** One line on what it does. */
    public String summary() {
        return summary;
    }

    /** The safe strategies must never let an anomaly through; {@link #NONE} is there to show one. */
    public boolean isSafe() {
        return this != NONE;
    }

    /**
     * The strategy named {@code flag} (case-insensitive).
     *
     * @throws IllegalArgumentException naming the valid values
     */
    public static Strategy parse(String flag) {
        if (flag != null) {
            for (Strategy s : values()) {
                if (s.flag.equals(flag.strip().toLowerCase(Locale.ROOT))) {
                    return s;
                }
            }
        }
        throw new IllegalArgumentException("unknown strategy '" + flag + "': expected pessimistic, optimistic or none");
    }
}
