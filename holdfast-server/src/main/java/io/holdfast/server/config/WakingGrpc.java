package io.holdfast.server.config;

import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.rpc.RpcFactory;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.leader.LogAppender;

/**
 * Ratis's gRPC transport, unchanged on the wire, whose leader's log appenders are registered with
 * the node's {@link CommitWakeups} (found in the server's parameters under {@link
 * CommitWakeups#KEY}; parameters without one, as Ratis clients' are, or none, register nothing). Ratis
 * makes a user-defined transport from its class name, with this public constructor.
 */
public final class WakingGrpc implements RpcType {
    /** For Ratis, which makes the transport named in its properties by reflection. */
    public WakingGrpc() {}

    @Override
    public String name() {
        return WakingGrpc.class.getName();
    }

    @Override
    public RpcFactory newFactory(Parameters parameters) {
        return new Factory(parameters);
    }

    private static final class Factory extends GrpcFactory {
        private final CommitWakeups wakeups;

        Factory(Parameters parameters) {
            super(parameters);
            this.wakeups = parameters == null ? null : parameters.get(CommitWakeups.KEY, CommitWakeups.class);
        }

        @Override
        public LogAppender newLogAppender(RaftServer.Division server, LeaderState state, FollowerInfo follower) {
            if (wakeups == null) {
                return super.newLogAppender(server, state, follower);
            }
            CommitCarrier appender = new CommitCarrier(server, state, follower);
            wakeups.added(state, appender);
            return appender;
        }
    }
}
