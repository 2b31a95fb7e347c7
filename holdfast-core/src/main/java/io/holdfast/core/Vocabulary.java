package io.holdfast.core;

import io.holdfast.model.Command;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one build can apply of the replicated log: the protocol version it speaks, and for each
 * command type ({@link CommandCodec}'s type byte) the protocol version that introduced it.
 *
 * <p>The rule that keeps replicas of different builds equal during an upgrade node by node: a
 * command of protocol version N is logged only once every member of the cluster has reported a
 * version of N or more ({@link Command.ReportVersion}); the cluster's version is the lowest
 * reported, and a member that has not reported counts as version 1, until the leader records the
 * version that every member reported ({@link LockTable#VERSION_FLOOR}): from then on the cluster's
 * version never drops below it by itself (a member being added, or one of a restored cluster, has
 * not reported yet; the leader admits a voter only once it reported). A replica that still meets a
 * command type it does not know (a member of an older build added after the command was logged, or
 * a build rolled back) stops before applying that entry instead of applying the rest and
 * diverging. A new snapshot format follows the same rule: it is written only once the cluster's
 * version includes it.
 *
 * <p>Each command type's version is beside its type byte ({@code CommandCodec.Type}), with the
 * history of the versions; the version a build speaks is the newest among them.
 *
 * <p>Reentrant grants are gone without a version step: no Holdfast client ever asked for one, so
 * logs and snapshots of every version hold none, and the bytes stay the same (the flag and the hold
 * count are written as false and 1). A replica that still meets an entry with the flag set (sent by
 * some other gRPC client to an older build) stops on it as on an unknown command type, and a
 * snapshot with a hold count above 1 is refused, rather than applying them differently.
 *
 * <p>What it does not do: it does not stop an operator from starting an older build; that build
 * stops at the first entry it cannot read (one line, exit 71), which is safe but not available.
 */
public final class Vocabulary {
    /** The protocol version this build speaks: the newest among its command types ({@code CommandCodec.Type}). */
    public static final int VERSION = newestType();

    /** This build's vocabulary: every command type {@link CommandCodec} reads. */
    public static final Vocabulary CURRENT = new Vocabulary(VERSION, currentTypes());

    private final int version;
    private final int[] since;
    private final int newest;

    /**
     * A vocabulary. Builds have exactly one ({@link #CURRENT}); tests make others to play an older
     * or a newer build in one JVM.
     *
     * @param version the protocol version the build speaks, 1 or more
     * @param sinceByType for every command type the build can decode, the version that introduced
     *     it; types introduced after {@code version} are decoded by the codec but not applied, as a
     *     build of that older version would not
     */
    public Vocabulary(int version, Map<Integer, Integer> sinceByType) {
        if (version < 1) {
            throw new IllegalArgumentException("a protocol version is 1 or more, not " + version);
        }
        int highest =
                sinceByType.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
        if (highest > 255) {
            throw new IllegalArgumentException("a command type is one byte, not " + highest);
        }
        this.version = version;
        this.since = new int[highest + 1];
        int top = 0;
        for (Map.Entry<Integer, Integer> e : sinceByType.entrySet()) {
            if (e.getKey() < 1 || e.getValue() < 1) {
                throw new IllegalArgumentException("type " + e.getKey() + " since " + e.getValue() + " is not valid");
            }
            since[e.getKey()] = e.getValue();
            if (e.getValue() <= version) {
                top = Math.max(top, e.getValue());
            }
        }
        this.newest = top;
    }

    private static Map<Integer, Integer> currentTypes() {
        Map<Integer, Integer> types = new TreeMap<>();
        for (CommandCodec.Type type : CommandCodec.Type.values()) {
            types.put(type.code, type.since);
        }
        return types;
    }

    /** The newest protocol version among the command types: the one this build speaks. */
    private static int newestType() {
        int newest = 1;
        for (CommandCodec.Type type : CommandCodec.Type.values()) {
            newest = Math.max(newest, type.since);
        }
        return newest;
    }

    /** The protocol version this build speaks: what it reports. */
    public int version() {
        return version;
    }

    /** Whether this build applies commands of this type. */
    public boolean knows(int type) {
        int s = since(type);
        return s != 0 && s <= version;
    }

    /** The protocol version that introduced this command type; 0 if this build does not know it. */
    public int since(int type) {
        return type >= 1 && type < since.length ? since[type] : 0;
    }

    /**
     * Whether every command this build knows can be logged in a cluster of version 1: then no
     * command needs the cluster's version looked up (the case of every build up to now).
     */
    public boolean allInVersionOne() {
        return newest <= 1;
    }

    /** The same table as spoken by a build of an older (or newer) protocol version. */
    public Vocabulary atVersion(int otherVersion) {
        Map<Integer, Integer> types = new TreeMap<>();
        for (int type = 1; type < since.length; type++) {
            if (since[type] != 0) {
                types.put(type, since[type]);
            }
        }
        return new Vocabulary(otherVersion, types);
    }

    @Override
    public String toString() {
        return "protocol version " + version;
    }
}
