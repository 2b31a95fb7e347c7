package io.holdfast.testkit;

import io.holdfast.Capability;
import org.junit.jupiter.api.Nested;

/**
 * The contract every Holdfast provider passes: one suite, run by each provider against its real
 * store, switched by the {@linkplain Capability capabilities} the provider declares.
 *
 * <p>A provider's test is a short subclass that starts (or finds) its store and returns a {@link
 * ProviderFixture}:
 *
 * <pre>{@code
 * class RedisProviderContractTest extends LockProviderContract {
 *     static EmbeddedRedis redis;                       // started once, in @BeforeAll
 *
 *     @Override
 *     protected ProviderFixture fixture() {
 *         return new ProviderFixture() {
 *             public LockClient open(ClientOptions o) { return LockClient.open(redis.uri(), o); }
 *             public Set<Capability> capabilities() { return EnumSet.of(...); }
 *             public void crash(LockClient c) { ((RedisClient) c).stopTalkingForTest(); }
 *             public Duration shortSessionTtl() { return Duration.ofSeconds(2); }
 *         };
 *     }
 * }
 * }</pre>
 *
 * <p><b>What it checks.</b> The tests are grouped in the nested classes below, one group per idea:
 * exclusive locks (grant, try, timeout, fencing tokens, mutual exclusion, release), fair queues,
 * sessions (close and crash), cancelled and asynchronous waits, read-write locks, semaphores, lease
 * timeouts, lock-delay, deadlock detection, registers, keys and transactions, elections, latches and barriers, operator calls, the {@code Lock} view, bad
 * input, separate processes (child JVMs through {@link ProviderFixture#uri()}: mutual exclusion, a
 * killed holder), store outages ({@link ProviderFixture#stopStore()}: unavailable without hanging,
 * restarts), and undeclared features. A test that needs a capability the provider does not declare, or
 * a crash the fixture cannot simulate, is <em>skipped</em> with the reason, never passed.
 *
 * <p><b>What it assumes.</b> Every test uses names under its own random prefix and closes the
 * clients it opened, so tests may share one store, but they must not run in parallel with each
 * other on a store whose capacity is small. Waits are bounded: nothing sleeps to synchronise, and
 * a hung provider fails a test after at most a minute. With an in-process provider the whole suite
 * takes some twenty seconds, mostly session TTLs in the crash tests.
 */
public abstract class LockProviderContract {
    /**
     * The provider under test. Called before every test; return the same fixture each time if
     * starting the store is expensive (start it in a static {@code @BeforeAll}).
     */
    protected abstract ProviderFixture fixture();

    @Nested
    class ExclusiveLocks extends ExclusiveLockContract {
        ExclusiveLocks() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class FairQueue extends FairQueueContract {
        FairQueue() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class Sessions extends SessionContract {
        Sessions() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class WaitCancellation extends WaitCancellationContract {
        WaitCancellation() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class ReadWriteLocks extends ReadWriteContract {
        ReadWriteLocks() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class Semaphores extends SemaphoreContract {
        Semaphores() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class LeaseTimeouts extends LeaseTimeoutContract {
        LeaseTimeouts() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class LockDelay extends LockDelayContract {
        LockDelay() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class Deadlocks extends DeadlockContract {
        Deadlocks() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class Registers extends RegisterContract {
        Registers() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class KeysAndTransactions extends KeyContract {
        KeysAndTransactions() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class KeyLifetimes extends KeyLifetimeContract {
        KeyLifetimes() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class Elections extends ElectionContract {
        Elections() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class Recipes extends RecipeContract {
        Recipes() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class Watches extends WatchContract {
        Watches() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class MultiLocks extends MultiLockContract {
        MultiLocks() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class AdminCalls extends AdminContract {
        AdminCalls() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class LockView extends LockViewContract {
        LockView() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class InvalidInput extends InvalidInputContract {
        InvalidInput() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class MultiProcess extends MultiProcessContract {
        MultiProcess() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class StoreOutage extends StoreOutageContract {
        StoreOutage() {
            super(LockProviderContract.this);
        }
    }

    @Nested
    class UndeclaredFeatures extends UnsupportedFeatureContract {
        UndeclaredFeatures() {
            super(LockProviderContract.this);
        }
    }
}
