package io.holdfast.cli;

import io.holdfast.InvalidArgumentException;
import io.holdfast.KeyEntry;
import io.holdfast.Keys;
import io.holdfast.LockClient;
import io.holdfast.PutOptions;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.WatchTarget;
import io.holdfast.server.http.JsonViews;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast kv get|put|del|add|ls|watch|txn|join}: the keys of a backend ({@link Keys}) from the
 * command line, what {@code etcdctl get/put/del/txn/watch} and {@code zkCli.sh get/set/create -e/ls}
 * do for their stores. Each subcommand opens a client of {@code --backend}, does one thing and
 * closes it, except {@code put --attach} (which keeps its session, and so the key, until it is
 * stopped or the session ends: {@link AttachedKey}), {@code join} (which holds a group membership
 * the same way: {@link KvJoinCommand}) and {@code watch}.
 *
 * <p>Exit codes: 0; 1 {@code get} of an absent key, or a {@code txn} whose compares failed (its
 * {@code otherwise} ran); 75 a version conflict, or a join of a member name another session holds
 * (nothing changed); 64 usage error or a backend without keys; 69 backend unavailable; 77 not
 * allowed. Failure story: {@code kv put k v
 * --if-version 3} while another writer made it version 4: nothing is written, one line names the
 * conflict and the current version, exit 75.
 */
@Command(
        name = "kv",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        subcommands = {
            KvCommand.Get.class,
            KvCommand.Put.class,
            KvCommand.Del.class,
            KvCommand.Add.class,
            KvLsCommand.class,
            KvCommand.WatchKeys.class,
            KvTxnCommand.class,
            KvJoinCommand.class
        },
        description = {
            "Read, write, list and watch keys: small versioned values beside the locks (docs/keys.md).",
            "Exit code: 0; 1 get of an absent key, or a txn whose compares failed; 75 version conflict, or a join of"
                    + " a member name another session holds; 64 usage error or a backend without keys; 69 backend"
                    + " unavailable, or the session of put --attach, join or watch ended; 77 not allowed."
        })
final class KvCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** No subcommand: show what there is, as a usage error. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
    }

    /** The keys of {@code client}; a backend without them is a usage error naming it. */
    static Keys keys(LockClient client) {
        try {
            return client.keys();
        } catch (UnsupportedFeatureException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
    }

    /** What the subcommands share: the backend and {@code --json}. */
    abstract static class KvBase implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        BackendOption backend;

        @Option(names = "--json", description = "Print JSON (fields: docs/cli.md).")
        boolean json;

        @Override
        public final Integer call() throws InterruptedException {
            try (LockClient client = backend.open()) {
                return run(client, keys(client), spec.commandLine().getOut());
            } catch (InvalidArgumentException e) {
                throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
            }
        }

        abstract int run(LockClient client, Keys keys, PrintWriter out) throws InterruptedException;

        int print(PrintWriter out, String line) {
            out.println(line);
            out.flush();
            return ExitCodes.OK;
        }

        /** Prints {@code {"key": key, field: number}} with --json, else {@code text}. */
        int print(PrintWriter out, String key, String field, long number, String text) {
            return print(
                    out,
                    json
                            ? JsonViews.JSON
                                    .createObjectNode()
                                    .put("key", key)
                                    .put(field, number)
                                    .toString()
                            : text);
        }
    }

    @Command(
            name = "get",
            mixinStandardHelpOptions = true,
            description = {
                "Print KEY's value (exit 1 when it is absent); --json adds its version and owner.",
                "--prefix: KEY is a prefix, and every key under it is listed as kv ls lists it (etcd's get --prefix);"
                        + " with --keys-only, the keys alone."
            })
    static final class Get extends KvBase {
        @Parameters(index = "0", paramLabel = "KEY", description = "The key (with --prefix: the prefix).")
        String key;

        @Option(names = "--prefix", description = "List every key that starts with KEY, as kv ls KEY does.")
        boolean prefix;

        @Option(names = "--keys-only", description = "With --prefix: the keys alone; their values are not sent.")
        boolean keysOnly;

        @Option(
                names = "--limit",
                paramLabel = "N",
                defaultValue = "1000",
                description = "With --prefix: at most N keys (default: ${DEFAULT-VALUE}).")
        int limit;

        @Override
        int run(LockClient client, Keys keys, PrintWriter out) {
            if (prefix) {
                return KvLsCommand.list(keys, key, limit, keysOnly, json, out);
            }
            if (keysOnly) {
                throw new CliFailure(ExitCodes.USAGE, "--keys-only goes with --prefix");
            }
            Optional<KeyEntry> entry = keys.get(key);
            if (entry.isEmpty()) {
                throw new CliFailure(ExitCodes.CHECK_FAILED, key + " is absent");
            }
            if (json) {
                return print(out, WatchLines.keyJson(entry.get()).toString());
            }
            Long counter = WatchLines.counter(entry.get().value());
            if (counter != null) {
                return print(out, counter.toString());
            }
            WatchLines.Value value = WatchLines.Value.of(entry.get().value());
            return print(out, value.text());
        }
    }

    @Command(
            name = "put",
            mixinStandardHelpOptions = true,
            description = {
                "Write VALUE ('-': standard input) to KEY and print its new version.",
                "--attach ties the key to this command's session: it stays until the command is stopped"
                        + " (SIGINT/SIGTERM, or --for) or killed, then goes when the session ends. It is a put: a key"
                        + " another session holds is taken over; kv join registers a group member safely.",
                "Without --attach, --detach or --ttl the key keeps its lifetime: attached to its session (whoever"
                        + " writes it) or its deadline, as ZooKeeper's setData; --detach makes it live until deleted.",
                "Exit code: 0; 75 version conflict; 69 backend unavailable, or (--attach) the session ended without the"
                        + " command (holdfast sessions end, an outage longer than its TTL): one line names the cause."
            })
    static final class Put extends KvBase {
        @Parameters(index = "0", paramLabel = "KEY", description = "The key.")
        String key;

        @Parameters(index = "1", paramLabel = "VALUE", description = "The value as text; '-' reads standard input.")
        String value;

        @Option(names = "--if-version", paramLabel = "N", description = "Only if KEY's version is N (0: absent).")
        Long ifVersion;

        @Option(names = "--if-absent", description = "Only if KEY is absent.")
        boolean ifAbsent;

        @Option(
                names = "--ttl",
                paramLabel = "DURATION",
                converter = DurationConverter.class,
                description = "The key is deleted this long after the write (1s to 30d).")
        Duration ttl;

        @Option(names = "--attach", description = "Attach KEY to this command's session and hold it until stopped.")
        boolean attach;

        @Option(names = "--detach", description = "Attach KEY to no session: it lives until deleted (or its --ttl).")
        boolean detach;

        @Option(
                names = "--lease",
                paramLabel = "ID",
                description = "Attach KEY to the lease ID (from 'holdfast lease grant'): it goes when the lease ends.")
        String lease;

        @Option(
                names = "--for",
                paramLabel = "DURATION",
                converter = DurationConverter.class,
                description = "With --attach: hold the session this long, then end it (the key goes with it).")
        Duration holdFor;

        @Override
        int run(LockClient client, Keys keys, PrintWriter out) throws InterruptedException {
            if (ifVersion != null && ifAbsent) {
                throw new CliFailure(ExitCodes.USAGE, "give --if-version or --if-absent, not both");
            }
            if (attach && detach) {
                throw new CliFailure(ExitCodes.USAGE, "give --attach or --detach, not both");
            }
            if (holdFor != null && !attach) {
                throw new CliFailure(ExitCodes.USAGE, "--for needs --attach");
            }
            if (lease != null && (attach || detach || ttl != null)) {
                throw new CliFailure(
                        ExitCodes.USAGE,
                        "--lease cannot be given with --attach, --detach or --ttl: the key lives as long as the lease");
            }
            PutOptions options = ifAbsent
                    ? PutOptions.ifAbsent()
                    : ifVersion != null ? PutOptions.ifVersion(ifVersion) : PutOptions.any();
            if (ttl != null) {
                options = options.ttl(ttl);
            }
            if (attach) {
                options = options.attach();
            } else if (detach) {
                options = options.detach();
            } else if (lease != null) {
                options = options.lease(lease);
            }
            KeyEntry written = keys.put(key, bytes(value), options);
            print(out, json ? WatchLines.keyJson(written).toString() : key + " version " + written.version());
            if (attach) {
                AttachedKey.hold(client, key, holdFor);
            }
            return ExitCodes.OK;
        }

        private byte[] bytes(String text) {
            if (!"-".equals(text)) {
                return text.getBytes(StandardCharsets.UTF_8);
            }
            try {
                InputStream in = System.in;
                return in.readNBytes(Keys.MAX_VALUE_BYTES + 1);
            } catch (IOException e) {
                throw new CliFailure(
                        ExitCodes.USAGE, "cannot read the value from standard input: " + e.getMessage(), e);
            }
        }
    }

    @Command(
            name = "del",
            mixinStandardHelpOptions = true,
            description = {
                "Delete KEY and print the version it had (0: it was absent).",
                "--prefix PREFIX deletes every key that starts with PREFIX (etcd's del --prefix) and prints how many:"
                        + " a page of up to 1000 keys at a time, each page one step, the whole not; an empty PREFIX is"
                        + " refused (exit 64).",
                "Exit code: 0; 75 version conflict; 64 usage error; 69 backend unavailable; 77 not allowed."
            })
    static final class Del extends KvBase {
        @Parameters(index = "0", arity = "0..1", paramLabel = "KEY", description = "The key.")
        String key;

        @Option(names = "--if-version", paramLabel = "N", description = "Only if KEY's version is N.")
        Long ifVersion;

        @Option(
                names = "--prefix",
                paramLabel = "PREFIX",
                description = "Delete every key that starts with PREFIX, instead of KEY.")
        String prefix;

        @Override
        int run(LockClient client, Keys keys, PrintWriter out) {
            if (prefix != null) {
                if (key != null || ifVersion != null) {
                    throw new CliFailure(
                            ExitCodes.USAGE, "give KEY or --prefix, not both (--if-version goes with KEY)");
                }
                long deleted = keys.deletePrefix(prefix);
                return print(
                        out,
                        json
                                ? JsonViews.JSON
                                        .createObjectNode()
                                        .put("prefix", prefix)
                                        .put("deleted", deleted)
                                        .toString()
                                : "deleted " + deleted + (deleted == 1 ? " key" : " keys") + " under " + prefix);
            }
            if (key == null) {
                throw new CliFailure(ExitCodes.USAGE, "give KEY, or --prefix PREFIX");
            }
            long had = keys.delete(key, ifVersion == null ? Keys.ANY_VERSION : ifVersion);
            return print(out, key, "version", had, had == 0 ? key + " was absent" : key + " deleted at version " + had);
        }
    }

    @Command(
            name = "add",
            mixinStandardHelpOptions = true,
            description = {"Add DELTA to the counter KEY (absent: 0) and print its new value."})
    static final class Add extends KvBase {
        @Parameters(index = "0", paramLabel = "KEY", description = "The counter's key.")
        String key;

        @Parameters(index = "1", paramLabel = "DELTA", description = "What to add (negative to subtract).")
        long delta;

        @Override
        int run(LockClient client, Keys keys, PrintWriter out) {
            long value = keys.add(key, delta);
            return print(out, key, "value", value, Long.toString(value));
        }
    }

    @Command(
            name = "watch",
            mixinStandardHelpOptions = true,
            description = {
                "Print every key under PREFIX (all without it), then one line per write or deletion (with its"
                        + " cause), until --count events, --timeout or SIGINT/SIGTERM. --json: one object per line.",
                "--from POSITION (kv ls --json's position) prints the changes after it instead of the keys: with a"
                        + " listing, nothing is missed; a STATE comes first only when the service no longer has them all.",
                "It outlives a leader change and a restart shorter than its session's TTL. Exit code: 0; 69 backend"
                        + " unavailable at the start, or its session ended (one line names the cause); 64 usage error."
            })
    static final class WatchKeys implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", arity = "0..1", paramLabel = "PREFIX", description = "The prefix (default: all).")
        String prefix = "";

        @Option(names = "--json", description = "Print one JSON object per line (fields: docs/cli.md).")
        boolean json;

        @Option(names = "--count", paramLabel = "N", description = "Exit 0 after N events (the state counts as one).")
        Integer count;

        @Option(
                names = "--from",
                paramLabel = "POSITION",
                description = "Start after POSITION (kv ls --json's position): the changes since, no STATE unless the"
                        + " service no longer has them all.")
        String from;

        @Option(
                names = "--timeout",
                paramLabel = "DURATION",
                converter = DurationConverter.class,
                description = "Exit 0 after this long.")
        Duration timeout;

        @Mixin
        BackendOption backend;

        @Override
        public Integer call() throws InterruptedException {
            WatchTarget target;
            try {
                target = WatchTarget.keys(prefix);
            } catch (InvalidArgumentException e) {
                throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
            }
            return new WatchRun(spec, target, json, count, timeout, null)
                    .from(from)
                    .run(backend);
        }
    }
}
