package io.holdfast.spring;

/**
 * What the integrations of this module report about the locks they take: the Micrometer binding implements
 * it when Micrometer is present ({@link HoldfastMetrics}); otherwise {@link #NONE} ignores everything.
 * Locks an application takes directly on its {@link io.holdfast.LockClient} are not reported.
 */
public interface LockObserver {
    /** Where the lock was taken: a {@link io.holdfast.spring.jobs.ClusterExclusive} job or the lock registry. */
    enum Source {
        JOB,
        REGISTRY
    }

    /** How an acquisition ended. */
    enum Outcome {
        /** Granted. */
        ACQUIRED,
        /** Held by someone else, and not waited for (or the wait ran out). */
        BUSY,
        /** The call failed (service unavailable, session expired, bad name...). */
        ERROR
    }

    LockObserver NONE = new LockObserver() {
        @Override
        public void acquisition(Source source, Outcome outcome, long nanos) {}

        @Override
        public void released(Source source) {}

        @Override
        public void lost(Source source) {}

        @Override
        public void jobRun(String job, boolean ran) {}
    };

    /** One acquisition attempt, its outcome and how long it took (waiting included). */
    void acquisition(Source source, Outcome outcome, long nanos);

    /** A hold that {@link #acquisition} reported as acquired was given back. */
    void released(Source source);

    /** A hold was lost while held (its lease expired or it was revoked). */
    void lost(Source source);

    /** A job either ran, or was skipped because another node held its lock. */
    void jobRun(String job, boolean ran);
}
