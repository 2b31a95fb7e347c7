package io.holdfast.recipes;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.Election;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Leadership;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import io.holdfast.LockLostException;
import io.holdfast.Names;
import io.holdfast.SessionExpiredException;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.Versioned;
import io.holdfast.VersionedRegister;
import io.holdfast.Watch;
import io.holdfast.WatchTarget;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * {@link Election} over any {@link LockClient}: the lock of the name says who leads, the register
 * of the name holds {@code "<epoch>:<value>"} written fenced by the leader's lease.
 */
final class LockElection implements Election {
    private final Recipes recipes;
    private final LockClient client;
    private final String name;

    LockElection(Recipes recipes, String name) {
        this.recipes = recipes;
        this.client = recipes.client();
        this.name = Names.check(name);
    }

    @Override
    public String name() {
        return name;
    }

    private void requireCapabilities() {
        for (Capability needed : List.of(Capability.FENCED_REGISTERS, Capability.INSPECT)) {
            if (!client.capabilities().contains(needed)) {
                throw new UnsupportedFeatureException("elections need " + needed
                        + ", which this provider does not offer (" + client.capabilities() + ")");
            }
        }
    }

    @Override
    public Leadership campaign(String value, AcquireOptions options) throws InterruptedException {
        if (value == null) {
            throw new InvalidArgumentException("the value must not be null (use \"\" for none)");
        }
        if (value.getBytes(StandardCharsets.UTF_8).length > MAX_VALUE_BYTES) {
            throw new InvalidArgumentException("the value is over " + MAX_VALUE_BYTES + " bytes of UTF-8");
        }
        requireCapabilities();
        Lease lease = elected(options);
        try {
            VersionedRegister register = client.register(name);
            long version = register.get().map(Versioned::version).orElse(0L);
            register.compareAndSet(version, encode(lease.fencingToken(), value), lease);
        } catch (RuntimeException e) {
            lease.release(); // not proclaimed: the candidacy ends here
            throw e;
        }
        return new LeaseLeadership(lease, value);
    }

    /**
     * The lock of the name, within the options' wait. A candidacy whose session was lost while it
     * waited campaigns again under the client's next session, within what is left of the wait (ADR
     * 0004); a client that ends with its session ends the candidacy.
     */
    private Lease elected(AcquireOptions options) throws InterruptedException {
        long deadline = recipes.nanos() + options.waitTime().toNanos();
        AcquireOptions now = options;
        while (true) {
            try {
                return client.lock(name).acquire(now);
            } catch (SessionExpiredException e) {
                long left = deadline - recipes.nanos();
                if (!client.isOpen() || left <= 0) {
                    throw e;
                }
                AcquireOptions rest = AcquireOptions.waitUpTo(Duration.ofNanos(left));
                now = options.leaseTimeout() == null ? rest : rest.withLeaseTimeout(options.leaseTimeout());
            }
        }
    }

    @Override
    public Optional<Leader> leader() {
        requireCapabilities();
        Optional<LockInfo> lock = client.admin().describe(name);
        if (lock.isEmpty() || lock.get().holders().isEmpty()) {
            return Optional.empty();
        }
        long epoch = lock.get().holders().get(0).fencingToken();
        String value = client.register(name)
                .get()
                .map(v -> decode(name, v.value()))
                .filter(proclaimed -> proclaimed.epoch() == epoch)
                .map(Leader::value)
                .orElse(null);
        return Optional.of(new Leader(name, epoch, value));
    }

    @Override
    public Watch observe(Consumer<Optional<Leader>> listener) {
        if (listener == null) {
            throw new InvalidArgumentException("the listener must not be null");
        }
        requireCapabilities();
        LeaderObserver observer = new LeaderObserver(name, listener);
        Watch lock = client.watch(WatchTarget.lock(name), observer.ofLock());
        Watch register;
        try {
            register = client.watch(WatchTarget.register(name), observer.ofRegister());
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
        return new Watch() {
            @Override
            public WatchTarget target() {
                return lock.target();
            }

            @Override
            public String position() {
                return lock.position();
            }

            @Override
            public boolean isOpen() {
                return lock.isOpen() && register.isOpen();
            }

            @Override
            public void close() {
                lock.close();
                register.close();
            }
        };
    }

    /** Reads {@code "<epoch>:<value>"}; null if the text is not one. */
    static Leader decode(String election, byte[] bytes) {
        return Leader.proclaimed(election, bytes).orElse(null);
    }

    private static byte[] encode(long epoch, String value) {
        return (epoch + ":" + value).getBytes(StandardCharsets.UTF_8);
    }

    /** A leadership: a lease and what it proclaimed. */
    private final class LeaseLeadership implements Leadership {
        private final Lease lease;
        private final String value;

        LeaseLeadership(Lease lease, String value) {
            this.lease = lease;
            this.value = Objects.requireNonNull(value);
        }

        @Override
        public String election() {
            return name;
        }

        @Override
        public String value() {
            return value;
        }

        @Override
        public long epoch() {
            return lease.fencingToken();
        }

        @Override
        public Lease lease() {
            return lease;
        }

        @Override
        public boolean isValid() {
            return lease.isValid();
        }

        @Override
        public void onLost(Consumer<? super LockLostException> listener) {
            lease.onLost(listener);
        }

        @Override
        public void resign() {
            lease.release();
        }

        @Override
        public void close() {
            resign();
        }

        @Override
        public String toString() {
            return "Leadership[" + name + ", epoch " + epoch() + ", " + (isValid() ? "valid" : "over") + "]";
        }
    }
}
