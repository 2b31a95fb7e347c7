package io.holdfast.model;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * New session ids, for every opener of a session: the Java client's own, the HTTP front of a node for the clients that speak only HTTP, and a
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
    private static final SecureRandom RANDOM = new SecureRandom();

    private SessionIds() {}

    /** A new id; see the class comment. */
    public static String newId() {
        byte[] raw = new byte[16];
        RANDOM.nextBytes(raw);
        raw[0] &= 0x7f;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    }
}
