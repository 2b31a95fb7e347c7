package io.holdfast.cli;

import io.holdfast.GroupMembership;
import io.holdfast.KeyEntry;
import io.holdfast.Keys;
import io.holdfast.LockClient;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code holdfast kv join GROUP MEMBER [VALUE]}: registers this command as MEMBER of GROUP ({@link
 * GroupMembership#join}: the key {@code GROUP/MEMBER}, attached to the command's session) and holds it as {@code kv
 * put --attach} holds its key ({@link AttachedKey}): until SIGINT/SIGTERM or {@code --for}, or until the session
 * ends without it (then 69 and one line naming the cause).
 *
 * <p>Unlike {@code kv put KEY VALUE --attach}, which writes whatever holds the key, a join keeps the rule every
 * client keeps (docs/protocol.md, "Group membership"): a member name belongs to one live session. A name another
 * live session holds is refused with nothing written, one line naming that session, exit 75: so a second instance
 * started under the same name by mistake neither takes the first one's registration over nor deletes it as it
 * exits. A name whose session ended (its key went with it) is free.
 */
@Command(
        name = "join",
        mixinStandardHelpOptions = true,
        description = {
            "Join GROUP as MEMBER with VALUE (the key GROUP/MEMBER, attached to this command's session) and hold it"
                    + " until stopped (SIGINT/SIGTERM, or --for) or killed, as kv put --attach does.",
            "A member name belongs to one live session: a name another session holds is refused, nothing written.",
            "Exit code: 0; 75 MEMBER is held by another session (the line names it); 69 backend unavailable, or the"
                    + " session ended without the command (one line names the cause)."
        })
final class KvJoinCommand extends KvCommand.KvBase {
    @Parameters(index = "0", paramLabel = "GROUP", description = "The group: its members are the keys GROUP/MEMBER.")
    String group;

    @Parameters(index = "1", paramLabel = "MEMBER", description = "The member's name (no '/').")
    String member;

    @Parameters(index = "2", paramLabel = "VALUE", arity = "0..1", description = "The member's value as text.")
    String value = "";

    @Option(
            names = "--for",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Hold the membership this long, then end the session (the member leaves with it).")
    Duration holdFor;

    @Override
    int run(LockClient client, Keys keys, PrintWriter out) throws InterruptedException {
        KeyEntry joined = client.group(group).join(member, value.getBytes(StandardCharsets.UTF_8));
        print(out, json ? WatchLines.keyJson(joined).toString() : joined.key() + " version " + joined.version());
        AttachedKey.hold(client, joined.key(), holdFor);
        return ExitCodes.OK;
    }
}
