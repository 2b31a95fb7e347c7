package io.holdfast.model;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * Session ids: the one rule for them and new ones, for every opener of a session: the Java client's own, the HTTP front of a node for the clients that speak only HTTP, and a
 * protocol-level one (the verifier's intruder).
 *
 * <p><b>Guarantees.</b> 127 random bits from a {@link SecureRandom} in URL-safe Base64, 22
 * characters, so that every replica creates the same session from the opening command and no two
 * openers choose the same one. The first character is one of {@code A-Za-f} (the first byte's top
 * bit is clear). <b>Not guaranteed:</b> uniqueness by construction; a collision is as likely as
 * guessing 127 random bits. <b>Failure story:</b> with all 128 bits random, one id in 64 began with
 * '-', and {@code holdfast sessions end -x…} read it as an option ("Missing required parameter:
 * 'ID'", seen in a build).
 */
public final class SessionIds {
    /** The shortest id the table accepts. */
    public static final int MIN_LENGTH = 16;
    /** The longest id the table accepts. */
    public static final int MAX_LENGTH = 128;
    /** The length of a {@link #newId()}: 128 bits in Base64. */
    public static final int NEW_LENGTH = 22;

    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * A seed for hash tables keyed by session ids, drawn once per process: a client may choose its
     * session's id, and with a hash it could compute it could choose ids that all collide. Differs
     * between processes, so such a table must never let its order reach anything replicated.
     */
    public static final long HASH_SEED = RANDOM.nextLong() | 1;

    private SessionIds() {}

    /**
     * What is wrong with {@code id} as a session id, or null if nothing: the rule every replica's
     * table applies when a session opens ({@value #MIN_LENGTH} to {@value #MAX_LENGTH} characters of
     * {@code A-Z a-z 0-9 - _}). The texts are the table's replies, so they never change.
     */
    public static String problem(String id) {
        if (id == null || id.length() < MIN_LENGTH || id.length() > MAX_LENGTH) {
            return "session id must be " + MIN_LENGTH + " to " + MAX_LENGTH + " characters";
        }
        for (int i = 0; i < id.length(); i++) {
            char ch = id.charAt(i);
            boolean ok = (ch >= 'a' && ch <= 'z')
                    || (ch >= 'A' && ch <= 'Z')
                    || (ch >= '0' && ch <= '9')
                    || ch == '-'
                    || ch == '_';
            if (!ok) {
                return "session id may only contain A-Z a-z 0-9 - _";
            }
        }
        return null;
    }

    /**
     * What is wrong with {@code id} as an id an opener chooses, or null if nothing: {@link
     * #problem}'s rule, at least as long as a {@link #newId()} (so it can hold as many random bits)
     * and not beginning with {@code '-'} (which command lines read as an option). Every {@link
     * #newId()} passes. The table applies this rule to every session opened once the cluster's
     * recorded version is {@value #CHOICE_RULE_VERSION} or more (entries written before keep the
     * rule they were applied with, so every replica replays them alike); the HTTP front applies it
     * always.
     */
    public static String choiceProblem(String id) {
        String problem = problem(id);
        if (problem != null) {
            return problem;
        }
        if (id.length() < NEW_LENGTH) {
            return "session id must be " + NEW_LENGTH + " to " + MAX_LENGTH + " characters";
        }
        return id.charAt(0) == '-' ? "session id must not begin with '-'" : null;
    }

    /** The protocol version from which the table applies {@link #choiceProblem}. */
    public static final int CHOICE_RULE_VERSION = 6;

    /** Whether an opener may choose {@code id} for itself ({@link #choiceProblem}). */
    public static boolean isWellFormedChoice(String id) {
        return choiceProblem(id) == null;
    }

    /** A new id; see the class comment. */
    public static String newId() {
        byte[] raw = new byte[16];
        RANDOM.nextBytes(raw);
        raw[0] &= 0x7f;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    }
}
