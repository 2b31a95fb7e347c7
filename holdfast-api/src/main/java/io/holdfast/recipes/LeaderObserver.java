package io.holdfast.recipes;

import io.holdfast.Election;
import io.holdfast.Election.Leader;
import io.holdfast.HolderInfo;
import io.holdfast.WatchEvent;
import io.holdfast.WatchListener;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * {@link Election#observe}: merges the watch of an election's lock (who leads, with which epoch)
 * and of its register (what each leader proclaimed) into one sequence of leaders in epoch order.
 * Both watches call it, each on its own thread: it is synchronized, and tells its listener under
 * that lock, so the listener sees one change at a time.
 */
final class LeaderObserver {
    private final String election;
    private final Consumer<Optional<Leader>> listener;
    /** The current leadership's epoch; 0 when nobody leads. */
    private long epoch;
    /** The newest proclamation the register showed. */
    private Leader proclaimed;
    /** What the listener was told last; null before the first. */
    private Optional<Leader> told;
    /** Whether the lock's state has arrived: nothing is told before it (nobody may seem to lead). */
    private boolean lockKnown;

    LeaderObserver(String election, Consumer<Optional<Leader>> listener) {
        this.election = election;
        this.listener = listener;
    }

    /** The listener for the watch of the election's lock. */
    WatchListener ofLock() {
        return this::lockEvent;
    }

    /** The listener for the watch of the election's register. */
    WatchListener ofRegister() {
        return this::registerEvent;
    }

    private synchronized void lockEvent(WatchEvent event) {
        switch (event.type()) {
            case STATE ->
                epoch = event.locks().stream()
                        .filter(info -> info.name().equals(election))
                        .flatMap(info -> info.holders().stream())
                        .mapToLong(HolderInfo::fencingToken)
                        .findFirst()
                        .orElse(0);
            case ACQUIRED -> epoch = Math.max(epoch, event.fencingToken());
            case RELEASED -> epoch = event.fencingToken() == epoch ? 0 : epoch;
            default -> {
                return;
            }
        }
        lockKnown = true;
        tell();
    }

    private synchronized void registerEvent(WatchEvent event) {
        Leader decoded = LockElection.decode(election, event.value());
        if (decoded != null && (proclaimed == null || decoded.epoch() >= proclaimed.epoch())) {
            proclaimed = decoded;
            if (lockKnown) {
                tell();
            }
        }
    }

    private void tell() {
        Optional<Leader> now = epoch == 0
                ? Optional.empty()
                : Optional.of(new Leader(
                        election,
                        epoch,
                        proclaimed != null && proclaimed.epoch() == epoch ? proclaimed.value() : null));
        if (Objects.equals(now, told)) {
            return;
        }
        if (told != null
                && told.isPresent()
                && now.isPresent()
                && now.get().epoch() < told.get().epoch()) {
            return; // never back in epochs
        }
        told = now;
        listener.accept(now);
    }
}
