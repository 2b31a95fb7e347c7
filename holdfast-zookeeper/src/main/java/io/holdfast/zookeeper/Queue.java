package io.holdfast.zookeeper;

import io.holdfast.LockMode;
import java.util.ArrayList;
import java.util.List;

/**
 * Who holds a lock and whom a waiter watches, decided from the queue alone (the children of the
 * lock's node, in sequence order). Pure: no ZooKeeper, so it is tested on its own.
 *
 * <p>The rules, strictly first come, first served:
 *
 * <ul>
 *   <li>an exclusive node holds when it is first; it watches the node just before it;
 *   <li>a shared node holds when every node before it is shared; it watches the last one that is
 *       not;
 *   <li>a semaphore node holds when its permits and those of every node before it fit in the
 *       semaphore, so a large request at the head is never overtaken. The first node that does not
 *       fit watches every node before it (any of them leaving may make room); the ones behind it
 *       watch their predecessor, since they cannot fit before it does.
 * </ul>
 *
 * No waiter watches the whole queue, so a release wakes one waiter (or, for a semaphore, the head
 * waiter), never a herd. The queue's kind and size are those of its first node: a request of another
 * kind (a lock where a semaphore is in use) or size is refused while that node exists.
 */
final class Queue {
    private Queue() {}

    /** What a node should do. */
    sealed interface Decision permits Holds, Waits, Refused {}

    /** The node holds the lock. */
    record Holds() implements Decision {}

    /** The node waits; any change of one of these nodes may let it hold. */
    record Waits(List<QueueNode> watch) implements Decision {}

    /** The request conflicts with the kind or size in use. */
    record Refused(String why) implements Decision {}

    /**
     * Decides for the node at {@code index} of {@code queue} (sorted by sequence).
     *
     * @param name the lock's name, for the refusal message
     */
    static Decision decide(String name, List<QueueNode> queue, int index) {
        QueueNode me = queue.get(index);
        QueueNode head = queue.get(0);
        if (index > 0 && (head.semaphore() != me.semaphore() || head.maxPermits() != me.maxPermits())) {
            return new Refused(refusal(name, head, me));
        }
        return switch (me.mode()) {
            case EXCLUSIVE -> index == 0 ? new Holds() : new Waits(List.of(queue.get(index - 1)));
            case SHARED -> {
                for (int j = index - 1; j >= 0; j--) {
                    if (queue.get(j).mode() != LockMode.SHARED) {
                        yield new Waits(List.of(queue.get(j)));
                    }
                }
                yield new Holds();
            }
            case PERMITS -> permits(queue, index);
        };
    }

    private static Decision permits(List<QueueNode> queue, int index) {
        int max = queue.get(index).maxPermits();
        long used = 0;
        for (int j = 0; j <= index; j++) {
            used += queue.get(j).permits();
            if (used > max) {
                return j == index
                        ? new Waits(List.copyOf(queue.subList(0, index)))
                        : new Waits(List.of(queue.get(index - 1)));
            }
        }
        return new Holds();
    }

    /** The nodes of {@code queue} that hold the lock now. */
    static List<QueueNode> holders(String name, List<QueueNode> queue) {
        List<QueueNode> holders = new ArrayList<>();
        for (int i = 0; i < queue.size(); i++) {
            if (decide(name, queue, i) instanceof Holds) {
                holders.add(queue.get(i));
            }
        }
        return holders;
    }

    private static String refusal(String name, QueueNode head, QueueNode me) {
        if (head.semaphore() && me.semaphore()) {
            return "the semaphore " + name + " is in use with " + head.maxPermits() + " permits, not "
                    + me.maxPermits();
        }
        return head.semaphore()
                ? name + " is in use as a semaphore of " + head.maxPermits() + " permits, not as a lock"
                : name + " is in use as a lock, not as a semaphore";
    }
}
