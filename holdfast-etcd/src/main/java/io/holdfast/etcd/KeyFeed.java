package io.holdfast.etcd;

import io.etcd.jetcd.KV;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchResponse;
import io.holdfast.KeyEntry;
import io.holdfast.UnavailableException;
import io.holdfast.WatchEvent;
import io.holdfast.WatchTarget;
import io.holdfast.internal.ChangeFeed;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The changes of the keys under a prefix ({@link EtcdKeyValues#watch}), from etcd's own record:
 * positions are etcd revisions. The state is one read of the prefix at a revision; the changes after
 * a position come from an etcd watch from the next revision, opened for one read, so nothing between
 * two reads is missed. When etcd has compacted the revisions asked for, the state is read again.
 *
 * <p><b>What it cannot tell.</b> etcd records a deletion, not its cause: a key deleted by a client
 * and one whose lease ended (its session's, or its own time to live) look the same. A deleted key
 * that had no lease can only have been deleted by a client (cause null); one that had a lease is
 * reported with {@link WatchEvent.Cause#UNKNOWN}.
 */
final class KeyFeed implements ChangeFeed {
    private final KV kv;
    private final Watch watch;
    private final Calls calls;
    private final KeySpace space;

    KeyFeed(KV kv, Watch watch, Calls calls, KeySpace space) {
        this.kv = kv;
        this.watch = watch;
        this.calls = calls;
        this.space = space;
    }

    @Override
    public Page read(WatchTarget target, String after, Duration wait) throws InterruptedException {
        if (after == null) {
            return state(target.name());
        }
        BlockingQueue<Object> arrived = new LinkedBlockingQueue<>();
        WatchOption from = WatchOption.builder()
                .isPrefix(true)
                .withPrevKV(true)
                .withRevision(Long.parseLong(after) + 1)
                .build();
        Watch.Watcher watcher = watch.watch(
                space.key(target.name()),
                from,
                Watch.listener(arrived::add, arrived::add, () -> arrived.add(new UnavailableException("ended"))));
        try {
            long deadline = System.nanoTime() + wait.toNanos();
            List<WatchEvent> events = new ArrayList<>();
            while (events.isEmpty()) {
                Object first = arrived.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (first == null) {
                    return new Page(List.of(), after);
                }
                List<Object> items = new ArrayList<>(List.of(first));
                arrived.drainTo(items);
                for (Object item : items) {
                    if (item instanceof CompactedException) {
                        return state(target.name());
                    } else if (item instanceof Throwable t) {
                        if (!events.isEmpty()) {
                            break;
                        }
                        throw calls.unavailable("watching keys " + target.name() + "*", t);
                    }
                    for (var e : ((WatchResponse) item).getEvents()) {
                        WatchEvent event = translate(e);
                        if (event != null) {
                            events.add(event);
                        }
                    }
                }
            }
            return new Page(events, events.get(events.size() - 1).position());
        } finally {
            watcher.close();
        }
    }

    private Page state(String prefix) {
        GetResponse r = calls.await(
                "reading keys " + prefix + "*",
                () -> kv.get(
                        space.key(prefix), GetOption.builder().isPrefix(true).build()));
        List<KeyEntry> keys = new ArrayList<>();
        for (var k : r.getKvs()) {
            StoredKey s = space.decode(k);
            if (s != null) {
                keys.add(s.entry());
            }
        }
        String at = Long.toString(r.getHeader().getRevision());
        return new Page(List.of(WatchEvent.keyState(prefix, keys).at(at)), at);
    }

    private WatchEvent translate(io.etcd.jetcd.watch.WatchEvent e) {
        String at = Long.toString(e.getKeyValue().getModRevision());
        if (e.getEventType() == io.etcd.jetcd.watch.WatchEvent.EventType.PUT) {
            StoredKey k = space.decode(e.getKeyValue());
            return k == null
                    ? null
                    : WatchEvent.registerSet(k.key(), k.owner(), k.version(), k.value())
                            .at(at);
        }
        StoredKey had = e.getPrevKV() == null ? null : space.decode(e.getPrevKV());
        if (had == null) {
            return null;
        }
        WatchEvent.Cause cause = had.lease() == 0 ? null : WatchEvent.Cause.UNKNOWN;
        return WatchEvent.registerDeleted(had.key(), had.owner(), had.version(), cause)
                .at(at);
    }
}
