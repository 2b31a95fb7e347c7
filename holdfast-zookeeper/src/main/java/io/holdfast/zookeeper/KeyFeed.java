package io.holdfast.zookeeper;

import io.holdfast.WatchEvent;
import io.holdfast.WatchTarget;
import io.holdfast.internal.ChangeFeed;
import io.holdfast.internal.PollingFeed;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The changes of the keys under a prefix ({@link ZooKeeperKeys#watch}): the keys are read at one
 * point ({@link KeyReads#list}) whenever ZooKeeper's persistent watch of {@code /keys} fires ({@link
 * ZooKeeperWatches}), and at least every {@link PollingFeed#INTERVAL}, and what differs from the
 * read before is reported: a key new or at another version as {@code REGISTER_SET}, a key gone as
 * {@code REGISTER_DELETED}. Positions are this feed's count of reads; a position it did not give
 * (or none) starts with the state.
 *
 * <p><b>What it cannot tell.</b> Changes between two reads are coalesced (a key written twice shows
 * its second version; one created and deleted in between is not seen). ZooKeeper does not say why a
 * node went: a deleted key that was persistent without a time to live can only have been deleted
 * by a client (cause null); an ephemeral or TTL node may also have gone with its session or its
 * time, and is reported with {@link WatchEvent.Cause#UNKNOWN}. Not thread-safe (its runner's).
 */
final class KeyFeed implements ChangeFeed {
    private final KeyReads reads;
    private final PollingFeed.Wakeup wakeup;
    private Map<String, KeyNode> last;
    private long count;

    KeyFeed(KeyReads reads, PollingFeed.Wakeup wakeup) {
        this.reads = reads;
        this.wakeup = wakeup;
    }

    @Override
    public Page read(WatchTarget target, String after, Duration wait) throws InterruptedException {
        if (after == null || last == null || !after.equals(Long.toString(count))) {
            last = readAll(target.name());
            count++;
            String at = Long.toString(count);
            List<io.holdfast.KeyEntry> state =
                    last.values().stream().map(KeyNode::entry).toList();
            return new Page(List.of(WatchEvent.keyState(target.name(), state).at(at)), at);
        }
        long waited = 0;
        long total = wait.toNanos();
        while (true) {
            long slice = Math.min(total - waited, PollingFeed.INTERVAL.toNanos());
            long started = System.nanoTime();
            wakeup.await(target, Math.max(0, slice));
            waited += System.nanoTime() - started;
            Map<String, KeyNode> now = readAll(target.name());
            List<WatchEvent> events = diff(now);
            if (!events.isEmpty()) {
                last = now;
                count++;
                String at = Long.toString(count);
                return new Page(events.stream().map(e -> e.at(at)).toList(), at);
            }
            if (waited >= total) {
                return new Page(List.of(), after);
            }
        }
    }

    private Map<String, KeyNode> readAll(String prefix) {
        Map<String, KeyNode> all = new LinkedHashMap<>();
        for (KeyNode k : reads.list(prefix, "", Integer.MAX_VALUE, new boolean[1])) {
            all.put(k.key(), k);
        }
        return all;
    }

    private List<WatchEvent> diff(Map<String, KeyNode> now) {
        List<WatchEvent> events = new ArrayList<>();
        now.forEach((key, k) -> {
            KeyNode was = last.get(key);
            if (was == null || was.version() != k.version() || was.dataVersion() != k.dataVersion()) {
                events.add(WatchEvent.registerSet(key, k.owner(), k.version(), k.value()));
            }
        });
        last.forEach((key, was) -> {
            if (!now.containsKey(key)) {
                WatchEvent.Cause cause = was.ephemeralOwner() == 0 ? null : WatchEvent.Cause.UNKNOWN;
                events.add(WatchEvent.registerDeleted(key, was.owner(), was.version(), cause));
            }
        });
        return events;
    }
}
