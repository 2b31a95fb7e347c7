package io.holdfast.core;

import io.holdfast.model.Command;

/**
 * One step of a generated script, in symbolic form. A step names sessions, owners, locks and
 * earlier tokens or waits by small indexes; {@link PropertyClients} turns it into a {@link Command}
 * against what happened so far (an index into the tokens seen wraps around), so every script, and
 * every part of one that {@link PropertyMinimizer} keeps, still runs and still means something.
 *
 * <p>{@code dt} moves the proposer's clock forward before the command; a negative {@code dt} sends
 * the command with a time that far in the past and leaves the clock alone (a new leader whose clock
 * is behind). Client steps carry {@code ack}: how the client moves its {@code ackedBelow} (0 keep, 1
 * up to its oldest undecided wait, 2 everything so far, 3 send 0).
 */
sealed interface PropertyStep {
    int dt();

    /** Variant 0 the session's own settings, 1 other settings, 2 bad id, 3 bad TTL, 4 empty client name. */
    record Open(int session, int variant, int dt) implements PropertyStep {
        @Override
        public String toString() {
            return "open s" + session + " v" + variant + t(dt);
        }
    }

    record KeepAlive(int session, int dt) implements PropertyStep {
        @Override
        public String toString() {
            return "keepAlive s" + session + t(dt);
        }
    }

    /**
     * Mode 0 the name's natural mode (exclusive lock, semaphore permits), 1 shared (permits on the
     * semaphore), 2 the wrong kind for the name, 3 null.
     */
    record Acquire(
            int session,
            int owner,
            int name,
            int mode,
            int permits,
            int semSize,
            long waitMillis,
            long leaseMillis,
            int ack,
            int dt)
            implements PropertyStep {
        @Override
        public String toString() {
            return "acquire s" + session + "/o" + owner + " n" + name + " m" + mode
                    + (name == PropertyClients.SEMAPHORE || mode == 2 ? " p" + permits + "/" + semSize : "")
                    + (waitMillis == 0 ? " try" : " wait=" + waitMillis)
                    + (leaseMillis == 0 ? "" : " lease=" + leaseMillis)
                    + a(ack) + t(dt);
        }
    }

    /** Session -1: the session the token was granted to. Pick -1: token 0, -2: a token never granted. */
    record Release(int session, int pick, boolean otherName, int ack, int dt) implements PropertyStep {
        @Override
        public String toString() {
            return "release s" + session + " token#" + pick + (otherName ? " other-name" : "") + a(ack) + t(dt);
        }
    }

    record Renew(int session, int pick, boolean otherName, int ack, int dt) implements PropertyStep {
        @Override
        public String toString() {
            return "renew s" + session + " token#" + pick + (otherName ? " other-name" : "") + a(ack) + t(dt);
        }
    }

    /** Session -1: the session that queued the wait. */
    record Cancel(int session, int pick, boolean otherName, int ack, int dt) implements PropertyStep {
        @Override
        public String toString() {
            return "cancel s" + session + " wait#" + pick + (otherName ? " other-name" : "") + a(ack) + t(dt);
        }
    }

    record Tick(int dt) implements PropertyStep {
        @Override
        public String toString() {
            return "tick" + t(dt);
        }
    }

    record Expire(int session, int dt) implements PropertyStep {
        @Override
        public String toString() {
            return "expire s" + session + t(dt);
        }
    }

    record Close(int session, int ack, int dt) implements PropertyStep {
        @Override
        public String toString() {
            return "close s" + session + a(ack) + t(dt);
        }
    }

    record Revoke(int name, int dt) implements PropertyStep {
        @Override
        public String toString() {
            return "revoke n" + name + t(dt);
        }
    }

    /**
     * Expect 0 the current version, 1 one less, 2 zero, 3 one more. Fence -1 unfenced, else a pick of
     * the tokens seen.
     */
    record SetRegister(int session, int key, int expect, int fence, int ack, int dt) implements PropertyStep {
        @Override
        public String toString() {
            return "set s" + session + " k" + key + " e" + expect + (fence < 0 ? "" : " fence#" + fence) + a(ack)
                    + t(dt);
        }
    }

    /**
     * A key command on a register key: kind 0 a write attached to the session (expecting the current
     * version), 1 a delete expecting the current version, 2 a delete of any version, 3 a counter add
     * of 1 (refused on a register that holds no counter).
     */
    record KeyStep(int session, int key, int kind, int ack, int dt) implements PropertyStep {
        @Override
        public String toString() {
            return new String[] {"attach", "delete", "delete-any", "add"}[kind] + " s" + session + " k" + key + a(ack)
                    + t(dt);
        }
    }

    /** Sends an earlier client command again, same invocation id, with a new time. */
    record Retry(int pick, int dt) implements PropertyStep {
        @Override
        public String toString() {
            return "retry #" + pick + t(dt);
        }
    }

    /**
     * Malformed input: 0 seq 0, 1 negative ackedBelow, 2 ackedBelow above seq, 3 no invocation, 4 a
     * null command, 5 expire a null session, 6 revoke a null name, 7 open a null session id.
     */
    record Malformed(int session, int kind, int dt) implements PropertyStep {
        @Override
        public String toString() {
            return "malformed s" + session + " k" + kind + t(dt);
        }
    }

    private static String t(int dt) {
        return dt == 0 ? "" : dt > 0 ? " +" + dt + "ms" : " sent " + (-dt) + "ms late";
    }

    private static String a(int ack) {
        return ack == 0 ? "" : " ack" + ack;
    }
}
