package io.holdfast.server.leadership;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteReplyProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteRequestProto;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.util.ProtoUtils;

/**
 * What the other voters say of their logs, asked with pre-vote requests: a voter decides a
 * pre-vote without touching its term or its vote, so asking changes nothing in the cluster. What
 * {@link DeadLeaderWatch} hands to {@link Candidacy} when the leader's process is gone.
 *
 * <p>Guarantees: every voter is asked at once, on the given executor, and the answer comes within
 * {@value #ASK_MILLIS} ms whatever the voters do; a voter that does not answer is left out, never
 * an error. Not guaranteed: that a voter left out is down.
 */
final class PreVotes {
    /** How long the other voters are given to tell their last log entry. */
    static final int ASK_MILLIS = 500;

    private PreVotes() {}

    /**
     * Each of {@code voters}' current term and last log entry, asked with a pre-vote request (Ratis
     * decides one without touching its term or vote); one that does not answer within {@value
     * #ASK_MILLIS} ms (down too, or cut off) is left out.
     */
    public static Map<String, RequestVoteReplyProto> ask(
            RaftGateway gateway, ExecutorService askers, Collection<String> voters)
            throws IOException, InterruptedException {
        RaftServer.Division division = gateway.division();
        TermIndex mine = division.getRaftLog().getLastEntryTermIndex();
        long term = division.getInfo().getCurrentTerm();
        List<String> ids = List.copyOf(voters);
        List<CompletableFuture<RequestVoteReplyProto>> asked = new ArrayList<>();
        for (String id : ids) {
            RequestVoteRequestProto request = RequestVoteRequestProto.newBuilder()
                    .setServerRequest(RaftRpcRequestProto.newBuilder()
                            .setRequestorId(gateway.selfId().toByteString())
                            .setReplyId(RaftPeerId.valueOf(id).toByteString())
                            .setRaftGroupId(ProtoUtils.toRaftGroupIdProtoBuilder(gateway.groupId())))
                    .setCandidateTerm(term + 1)
                    .setCandidateLastEntry(mine == null ? TermIndex.INITIAL_VALUE.toProto() : mine.toProto())
                    .setPreVote(true)
                    .build();
            asked.add(CompletableFuture.supplyAsync(
                            () -> {
                                try {
                                    return gateway.server().getServerRpc().requestVote(request);
                                } catch (IOException e) {
                                    throw new UncheckedIOException(e);
                                }
                            },
                            askers)
                    .orTimeout(ASK_MILLIS, TimeUnit.MILLISECONDS));
        }
        Map<String, RequestVoteReplyProto> answers = new LinkedHashMap<>();
        for (int i = 0; i < ids.size(); i++) {
            try {
                answers.put(ids.get(i), asked.get(i).get());
            } catch (ExecutionException e) {
                // no answer: down or cut off too
            }
        }
        return answers;
    }

    /**
     * Asks {@code voters} once, in the background, while the leader lives: each refuses a pre-vote
     * while it follows a live leader, and nothing changes. Ratis opens its connection to a voter on
     * the first request, so the asks and the vote requests after a leader's death do not wait for a
     * channel's start (0.2 s of a death's first second at 100,000 sessions, 2026-12-04).
     */
    static void warm(RaftGateway gateway, ExecutorService askers, Collection<String> voters) {
        try {
            askers.execute(() -> {
                try {
                    ask(gateway, askers, voters);
                } catch (IOException | RuntimeException e) {
                    // a voter that does not answer now is asked again when it matters
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed
        }
    }
}
