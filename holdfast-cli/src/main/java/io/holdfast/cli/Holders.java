package io.holdfast.cli;

import io.holdfast.Election;
import io.holdfast.HolderInfo;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import java.util.List;
import java.util.Optional;

/**
 * Who stands in the way, for the one line of a {@code lock} or {@code elect} that gave up: "'jobs/nightly' is
 * held by ann@host-a:1 (session 3fKq...) for 12.0s". Asked of the backend after the wait ended, so it says who
 * holds now; null when the backend cannot say (no {@code describe}, unreachable) or nobody holds any more (the
 * lock was freed meanwhile, or a lock-delay kept it): the caller's message then does without it.
 */
final class Holders {
    private Holders() {}

    /** How many held names the line names; the rest are counted. */
    static final int NAMED = 3;

    /**
     * Each of {@code names} that is held, and by whom ("'a' is held by …; 'b' is held by …"), the first
     * {@value #NAMED} named and the rest counted; null if none is or the backend cannot say.
     */
    static String heldBy(LockClient client, List<String> names) {
        List<String> held = new java.util.ArrayList<>();
        for (String name : names) {
            Optional<LockInfo> info;
            try {
                info = client.admin().describe(name);
            } catch (RuntimeException e) {
                return null;
            }
            if (info.isPresent() && !info.get().holders().isEmpty()) {
                held.add("'" + name + "' is held by " + who(info.get().holders()));
            }
        }
        if (held.isEmpty()) {
            return null;
        }
        String line = String.join("; ", held.subList(0, Math.min(NAMED, held.size())));
        return held.size() > NAMED ? line + "; " + (held.size() - NAMED) + " more names are held" : line;
    }

    /** "'svc/x' is led by ann@host-a:1 (session ...) for 12.0s, value 'host-a'"; null if nobody leads or unknown. */
    static String ledBy(LockClient client, String election) {
        Optional<LockInfo> info;
        Optional<Election.Leader> leader;
        try {
            info = client.admin().describe(election);
            leader = client.election(election).leader();
        } catch (RuntimeException e) {
            return null;
        }
        if (info.isEmpty() || info.get().holders().isEmpty()) {
            return null;
        }
        String value = leader.map(Election.Leader::value).orElse("");
        return "'" + election + "' is led by " + who(info.get().holders())
                + (value.isEmpty() ? "" : ", value '" + value + "'");
    }

    private static String who(List<HolderInfo> holders) {
        HolderInfo h = holders.get(0);
        String name = h.clientName() == null || h.clientName().isBlank() ? "a client" : h.clientName();
        return name + " (session " + h.sessionId() + ") for " + LocksCommand.duration(h.heldFor())
                + (holders.size() > 1 ? " and " + (holders.size() - 1) + " more" : "");
    }
}
