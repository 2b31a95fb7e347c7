package io.holdfast.redis;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * One Lua script, kept as a resource file beside this class and run by its SHA-1 ({@code EVALSHA}),
 * sending its text ({@code EVAL}) only when Redis does not know it (a fresh or restarted server).
 */
final class LuaScript {
    private final String name;
    private final String text;
    private final String sha;
    private final ScriptOutputType output;

    private LuaScript(String name, String text, ScriptOutputType output) {
        this.name = name;
        this.text = text;
        this.sha = sha1(text);
        this.output = output;
    }

    /** Loads {@code name}.lua from this package's resources. */
    static LuaScript load(String name, ScriptOutputType output) {
        return new LuaScript(name, read(name), output);
    }

    /**
     * Loads {@code name}.lua with the functions of {@code library}.lua in front of it (Redis 6.2 has
     * no script libraries, so shared Lua travels with each script).
     */
    static LuaScript load(String name, String library, ScriptOutputType output) {
        return new LuaScript(name, read(library) + "\n" + read(name), output);
    }

    private static String read(String name) {
        String file = name + ".lua";
        try (InputStream in = LuaScript.class.getResourceAsStream(file)) {
            if (in == null) {
                throw new IllegalStateException("the script " + file + " is missing from the holdfast-redis jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading the script " + file, e);
        }
    }

    String name() {
        return name;
    }

    String text() {
        return text;
    }

    <T> RedisFuture<T> evalsha(RedisClusterAsyncCommands<String, String> commands, String[] keys, String... args) {
        return commands.evalsha(sha, output, keys, args);
    }

    <T> RedisFuture<T> eval(RedisClusterAsyncCommands<String, String> commands, String[] keys, String... args) {
        return commands.eval(text, output, keys, args);
    }

    private static String sha1(String text) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-1");
            return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-1", e);
        }
    }

    @Override
    public String toString() {
        return name + ".lua";
    }
}
