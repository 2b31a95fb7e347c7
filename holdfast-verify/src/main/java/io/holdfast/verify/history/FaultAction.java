package io.holdfast.verify.history;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What the harness did in one {@link Fault} record: a fault it injected, the undoing of one, or a
 * note the harness keeps beside them (a catch-up seen, a problem of the final phase).
 *
 * <p><b>Contract.</b> Every action has one text name, {@link #text()}: the {@code "action"} field of a
 * fault line in a history file, and the word the run's report and the checkers print for it (the
 * summary's fault counts, the kinds of {@code fault to next write}). {@link #toString()} is that name
 * too, so a record printed whole reads as before. The names never change, since a saved history is
 * checked again later ({@code holdfast verify --check FILE}): a new action gets a new name.
 * {@link #parse(String)} is the exact inverse of {@link #text()} and refuses every other string with
 * an {@link IllegalArgumentException} that names the known ones, so a history with an action nobody
 * knows fails to read instead of being counted as some other fault.
 *
 * <p>The constants say what the record's {@code target} and {@code detail} hold. The detail of a
 * fault that hit the Raft leader names it ("leader", or "… (was leader)"): the run's summary and
 * the {@code availability} checker read the detail for that, not the action.
 */
public enum FaultAction {
    /** SIGKILL of a node; the detail says why ("leader", "follower", "majority", "disk lost", …). */
    KILL("kill"),
    /** SIGTERM of a node, as an operator stops one for maintenance (a leader hands over first). */
    STOP("stop"),
    /** A node started again after a kill or a stop (or a spare started for an addition). */
    START("start"),
    /** SIGSTOP of a node or a client process. */
    PAUSE("pause"),
    /** SIGCONT of a paused node or client: the undoing of {@link #PAUSE}. */
    RESUME("resume"),
    /** A node cut off from every other process. */
    ISOLATE("isolate"),
    /** The links between two sides cut; the target is {@code "a,b | c,d"}. */
    PARTITION("partition"),
    /** One direction of a link dropped; the target is {@code "from -> to"}. */
    ONE_WAY("one-way"),
    /** Every open connection of a dialer (a client, usually) closed mid-request. */
    CUT("cut"),
    /** One direction of a link slowed; the target is {@code "from -> to"}, the detail the delay. */
    DELAY("delay"),
    /** Links pass again: target {@code network}, or {@code all} when every fault is undone at once. */
    HEAL("heal"),
    /** The leader asked to hand its leadership over; the detail has the node's answer. */
    TRANSFER_LEADER("transfer-leader"),
    /** A node asked to take a snapshot now (its log is purged up to it); the detail has its answer. */
    SNAPSHOT("snapshot"),
    /** A client asked to try an exclusive lock at once (not a fault: the moment it is asked matters). */
    CONTEND("contend"),
    /**
     * A client's workload stopped, or started again (not a fault: an idle client makes no calls but
     * its heartbeats and a {@link #CONTEND}'s hold); the detail says which.
     */
    IDLE("idle"),
    /**
     * A process's wall clock moved (libfaketime; its monotonic clock untouched); the detail is the
     * offset from the real clock it runs at from then on, in seconds.
     */
    CLOCK_JUMP("clock-jump"),
    /** A member started again under its old id with its data directory deleted. */
    REJOIN_EMPTY("rejoin-empty"),
    /** A spare added to the members, as a learner or a voter; the detail has the leader's answer. */
    ADD_MEMBER("add-member"),
    /** A learner made a voter; the detail has the leader's answer. */
    PROMOTE("promote"),
    /** A member removed (the leader itself, possibly); the detail has the leader's answer. */
    REMOVE_MEMBER("remove-member"),
    /** A note: how a restarted node caught up (from a snapshot, or from the log only). */
    CATCH_UP("catch-up"),
    /** A note: the nemesis broke off with an error; the target is {@code harness}. */
    NEMESIS_ERROR("nemesis-error"),
    /** A note: a problem of the final phase (a worker that would not stop, say). */
    FINAL_PROBLEM("final-problem");

    private static final Map<String, FaultAction> BY_TEXT =
            Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(FaultAction::text, Function.identity()));

    private final String text;

    FaultAction(String text) {
        this.text = text;
    }

    /** The action's text name, as history files hold it and reports print it. */
    @JsonValue
    public String text() {
        return text;
    }

    /**
     * The action whose text name is {@code text}, exactly (case and all).
     *
     * @throws IllegalArgumentException if no action has that name; the message names the known ones
     */
    @JsonCreator
    public static FaultAction parse(String text) {
        FaultAction a = BY_TEXT.get(text);
        if (a == null) {
            throw new IllegalArgumentException("unknown fault action '" + text + "' (known: "
                    + Arrays.stream(values()).map(FaultAction::text).collect(Collectors.joining(", ")) + ")");
        }
        return a;
    }

    /** The text name, as {@link #text()}. */
    @Override
    public String toString() {
        return text;
    }
}
