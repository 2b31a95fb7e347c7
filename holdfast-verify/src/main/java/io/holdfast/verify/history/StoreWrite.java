package io.holdfast.verify.history;

/**
 * One write that reached a protected store, as the store logged it. A critical section writes
 * {@code enter} then {@code exit} to both stores with its lease's token; a leader of an election
 * writes {@code enter} when it begins to lead, {@code work} for each step of its leader work, and
 * {@code exit} when it resigns, all with its epoch.
 *
 * <p>The <b>fenced</b> store accepts a write only if its token is at least the highest it has seen
 * for that key ({@code highest} is that value before this write); the <b>unfenced</b> twin accepts
 * everything, to show what a store without fencing would have let through.
 *
 * @param store "fenced" or "unfenced"
 * @param key the protected resource (the lock's name)
 * @param token the writer's fencing token
 * @param process the writing client
 * @param seq the writer's acquire operation ({@link Op#seq()}) whose lease this is
 * @param phase "enter", "work" or "exit"
 * @param accepted whether the store took the write
 * @param highest the highest token the store had seen for the key before this write
 */
public record StoreWrite(
        long time,
        String store,
        String key,
        long token,
        String process,
        long seq,
        String phase,
        boolean accepted,
        long highest)
        implements Record {
    public static final String FENCED = "fenced";
    public static final String UNFENCED = "unfenced";
    public static final String ENTER = "enter";
    public static final String EXIT = "exit";
    public static final String WORK = "work";
}
