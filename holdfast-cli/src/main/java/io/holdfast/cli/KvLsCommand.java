package io.holdfast.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.Keys;
import io.holdfast.LockClient;
import io.holdfast.server.http.JsonViews;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code holdfast kv ls [PREFIX] [--limit N] [--keys-only] [--json]}, and the listing {@code kv get
 * --prefix} shares: the keys under a prefix page after page, each page read at a point of its own;
 * with {@code --json} one object holding the keys, whether more match beyond the limit, and the
 * position of the first page, from which {@code kv watch --from} misses nothing. Not one snapshot:
 * a key written while the pages are read may be missed or seen. Failure story: with access control
 * on, a caller that may read only part of the prefix is listed that part, the server leaving the
 * other keys out, not refused.
 */
@Command(
        name = "ls",
        mixinStandardHelpOptions = true,
        description = {
            "List the keys that start with PREFIX (all without it), in byte order: one line per key with its"
                    + " version, value and owner; --keys-only: the keys alone (etcd's --keys-only, values not sent).",
            "--json prints {\"keys\":[...],\"more\":...,\"position\":...}: position is where the first page was read,"
                    + " from which kv watch --from misses nothing."
        })
final class KvLsCommand extends KvCommand.KvBase {
    @Parameters(index = "0", arity = "0..1", paramLabel = "PREFIX", description = "The prefix (default: all).")
    String prefix = "";

    @Option(
            names = "--limit",
            paramLabel = "N",
            defaultValue = "1000",
            description = "Print at most N keys (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--keys-only", description = "Print the keys alone; their values are not sent.")
    boolean keysOnly;

    @Override
    int run(LockClient client, Keys keys, PrintWriter out) {
        return list(keys, prefix, limit, keysOnly, json, out);
    }

    /** Lists as {@code kv ls} does: {@code kv get --prefix} too. */
    static int list(Keys keys, String prefix, int limit, boolean keysOnly, boolean json, PrintWriter out) {
        if (limit < 1 || limit > 100_000) {
            throw new CliFailure(ExitCodes.USAGE, "--limit must be between 1 and 100000, not " + limit);
        }
        ArrayNode array = JsonViews.JSON.createArrayNode();
        int printed = 0;
        String after = "";
        String position = null;
        boolean more = false;
        while (printed < limit) {
            KeyListing page = keys.list(prefix, after, Math.min(Keys.MAX_PAGE, limit - printed), keysOnly);
            if (position == null) {
                position = page.position();
            }
            for (KeyEntry k : page.entries()) {
                if (json) {
                    array.add(keysOnly ? keyOnlyJson(k) : WatchLines.keyJson(k));
                } else {
                    out.println(keysOnly ? k.key() : WatchLines.keyLine("", k));
                }
                printed++;
            }
            after = page.next();
            more = after != null;
            if (after == null) {
                break;
            }
        }
        if (json) {
            ObjectNode answer = JsonViews.JSON.createObjectNode();
            answer.set("keys", array);
            answer.put("more", more).put("position", position);
            out.println(answer);
        } else if (printed == 0) {
            out.println("no keys" + (prefix.isEmpty() ? "" : " start with " + prefix));
        }
        out.flush();
        return ExitCodes.OK;
    }

    private static ObjectNode keyOnlyJson(KeyEntry k) {
        return JsonViews.JSON
                .createObjectNode()
                .put("key", k.key())
                .put("version", k.version())
                .put("owner", k.owner());
    }
}
