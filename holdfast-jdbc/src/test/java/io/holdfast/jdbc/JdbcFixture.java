package io.holdfast.jdbc;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.testkit.ProviderFixture;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/** The contract suite's view of one database started by a test class. */
final class JdbcFixture implements ProviderFixture {
    /** The lock-table mode's capabilities, as the documentation promises them. */
    static final Set<Capability> TABLE = Set.of(
            Capability.READ_WRITE,
            Capability.SEMAPHORE,
            Capability.LEASE_TIMEOUT,
            Capability.CHECK_FENCE,
            Capability.INSPECT,
            Capability.REVOKE,
            Capability.MULTI_LOCK,
            Capability.REGISTERS,
            Capability.FENCED_REGISTERS,
            Capability.KEYS,
            Capability.SESSION_KEYS,
            Capability.KEY_TTL,
            Capability.TRANSACTIONS);

    /** The advisory mode's. */
    static final Set<Capability> ADVISORY = Set.of(Capability.READ_WRITE, Capability.MULTI_LOCK);

    private final Stores.Store store;
    private final String uri;
    private final Set<Capability> capabilities;

    JdbcFixture(Stores.Store store, String options, Set<Capability> capabilities) {
        this.store = store;
        this.uri = store.uri() + options;
        this.capabilities = capabilities;
    }

    @Override
    public LockClient open(ClientOptions options) {
        return LockClient.open(uri, options);
    }

    @Override
    public Set<Capability> capabilities() {
        return capabilities;
    }

    /**
     * In advisory mode there is no honest simulation of a crash: a process that dies closes its
     * connection and PostgreSQL releases its locks at once (the multi-process tests show that with
     * real killed processes), while one that hangs keeps them until the connection dies, with no
     * TTL. The suite's crash tests expect "held right after the crash, free after the TTL", which
     * this mode cannot give, so they are skipped with this reason.
     */
    @Override
    public void crash(LockClient client) {
        if (capabilities == ADVISORY) {
            throw new UnsupportedOperationException(
                    "advisory mode has no session TTL: a dead process's connection "
                            + "closes and PostgreSQL releases its locks at once; a hung one keeps them while its connection lives");
        }
        io.holdfast.internal.CrashSimulation.crash(client);
    }

    @Override
    public Duration shortSessionTtl() {
        return Duration.ofSeconds(2);
    }

    @Override
    public Optional<String> uri() {
        return Optional.of(uri);
    }

    @Override
    public void stopStore() {
        store.stop();
    }

    @Override
    public void startStore() {
        store.start();
    }
}
