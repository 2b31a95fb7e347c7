package io.holdfast.server.raft;

/**
 * Hooks for tests that answer one kind of request: every event a node reports (an applied entry,
 * leadership gained or lost) is ignored, and each test overrides only the request it checks.
 */
abstract class QuietHooks implements StateMachineHooks {
    @Override
    public void applied(Applied entry) {}

    @Override
    public void leaderReady() {}

    @Override
    public void notLeader() {}
}
