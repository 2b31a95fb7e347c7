package io.holdfast.core;

/**
 * One copy of each client name and identity that sessions repeat: a fleet's sessions come from a
 * few programs under a few identities, and each opening decodes its own copy of their strings (48
 * bytes and more each, on every replica, for every session).
 *
 * <p><b>Guarantees.</b> {@link #share} returns a string equal to the one given, the same object as
 * an equal one it returned recently when it can, so that sessions with one name share it. It keeps
 * at most {@value #SLOTS} strings (one per slot of their hash, the newest in each), nothing per
 * session: names that are all different cost nothing more than before. <b>Not guaranteed:</b> one
 * copy per name (two names of one slot take turns, and each keeps its copies). It never changes
 * what a session's name is, only which equal object holds it, so replicas that share differently
 * hold the same state.
 */
final class SharedNames {
    static final int SLOTS = 1024;

    private String[] recent;

    /** An equal string, shared when one was seen recently; null for null. */
    String share(String name) {
        if (name == null) {
            return null;
        }
        if (recent == null) {
            recent = new String[SLOTS];
        }
        int i = name.hashCode() & (SLOTS - 1);
        String known = recent[i];
        if (name.equals(known)) {
            return known;
        }
        recent[i] = name;
        return name;
    }
}
