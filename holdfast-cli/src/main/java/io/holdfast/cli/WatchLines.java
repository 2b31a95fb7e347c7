package io.holdfast.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.holdfast.HolderInfo;
import io.holdfast.KeyEntry;
import io.holdfast.LockInfo;
import io.holdfast.WatchEvent;
import io.holdfast.WatchTarget;
import io.holdfast.server.http.JsonViews;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * The lines {@code holdfast watch} prints for a {@link WatchEvent}: text ({@code TYPE NAME key=value...}) or one
 * JSON object per event.
 *
 * <p>Every event is at least one line and no line breaks inside one: a register's value is printed as a quoted,
 * escaped JSON string (or as base64 when it is not UTF-8), so a value with newlines cannot fake events. A lock
 * {@code STATE} is one line per held or waited-for lock ({@code free} when there is none), so it is the only event
 * that may span several lines; its JSON is still one object. Not guaranteed: that a text line can be read back
 * into the event (the JSON form is the one for scripts).
 */
final class WatchLines {
    private final WatchTarget target;
    private final boolean json;

    WatchLines(WatchTarget target, boolean json) {
        this.target = target;
        this.json = json;
    }

    /** The lines of {@code event}, without line separators. */
    List<String> of(WatchEvent event) {
        return json ? List.of(json(event).toString()) : text(event);
    }

    private List<String> text(WatchEvent e) {
        boolean register = target.kind() == WatchTarget.Kind.REGISTER || target.kind() == WatchTarget.Kind.KEYS;
        if (e.type() == WatchEvent.Type.STATE && target.kind() == WatchTarget.Kind.KEYS) {
            return keyState(e);
        }
        if (e.type() == WatchEvent.Type.STATE && !register) {
            return lockState(e);
        }
        StringBuilder line = new StringBuilder(e.type().name()).append(' ').append(e.name());
        if (e.type() == WatchEvent.Type.STATE && e.version() == 0) {
            return List.of(line.append(" never written").toString());
        }
        field(line, "session", e.sessionId());
        if (e.fencingToken() != 0) {
            field(line, "token", Long.toString(e.fencingToken()));
        }
        field(line, "mode", e.mode() == null ? null : e.mode().name());
        field(line, "cause", e.cause() == null ? null : e.cause().name());
        if (register) {
            field(line, "version", Long.toString(e.version()));
            value(line, e.value());
        }
        return List.of(line.toString());
    }

    private static void value(StringBuilder line, byte[] bytes) {
        Long counter = counter(bytes);
        if (counter != null) {
            field(line, "counter", counter.toString());
            return;
        }
        Value value = Value.of(bytes);
        if (value != null) {
            field(line, value.base64() ? "valueBase64" : "value", value.base64() ? value.text() : quoted(value.text()));
        }
    }

    /** One line per key under the prefix: its version, value and owner ({@code no keys} when there is none). */
    private List<String> keyState(WatchEvent e) {
        if (e.keys().isEmpty()) {
            return List.of("STATE " + e.name() + "* no keys");
        }
        List<String> lines = new ArrayList<>();
        for (KeyEntry k : e.keys()) {
            lines.add(keyLine("STATE", k));
        }
        return lines;
    }

    /** {@code PREFIX key version=N value="..." [owner=SESSION]}: a key as {@code kv ls} and a key watch print it. */
    static String keyLine(String prefix, KeyEntry k) {
        StringBuilder line = new StringBuilder(prefix.isEmpty() ? "" : prefix + " ").append(k.key());
        field(line, "version", Long.toString(k.version()));
        value(line, k.value());
        field(line, "owner", k.owner());
        return line.toString();
    }

    /** A key as {@code kv --json} and a key watch's {@code --json} write it. */
    static ObjectNode keyJson(KeyEntry k) {
        Value value = Value.of(k.value());
        return JsonViews.JSON
                .createObjectNode()
                .put("key", k.key())
                .put("version", k.version())
                .put("value", value.text())
                .put("valueBase64", value.base64())
                .put("counter", counter(k.value()))
                .put("owner", k.owner());
    }

    /**
     * What a counter ({@code kv add}, {@link io.holdfast.Keys#add}) holds, for the eyes: an 8-byte value that is not
     * printable text, read as a signed big-endian 64-bit integer; null for any other value. Not guaranteed: that a
     * key shown so was written by {@code add} (8 raw bytes from {@code put -} look the same), nor that an {@code
     * add} whose 8 bytes happen to be printable text is shown as a counter.
     */
    static Long counter(byte[] bytes) {
        if (bytes == null || bytes.length != Long.BYTES) {
            return null;
        }
        Value value = Value.of(bytes);
        if (!value.base64() && value.text().codePoints().noneMatch(Character::isISOControl)) {
            return null;
        }
        return ByteBuffer.wrap(bytes).getLong();
    }

    /** One line per held or waited-for lock: its holders (session, token, mode) and how many wait. */
    private List<String> lockState(WatchEvent e) {
        if (e.locks().isEmpty()) {
            return List.of("STATE " + target + " free");
        }
        List<String> lines = new ArrayList<>();
        for (LockInfo lock : e.locks()) {
            StringBuilder line = new StringBuilder("STATE ").append(lock.name());
            line.append(lock.holders().isEmpty() ? " not held" : " held");
            String separator = "";
            for (HolderInfo h : lock.holders()) {
                line.append(separator);
                field(line, "session", h.sessionId());
                field(line, "token", Long.toString(h.fencingToken()));
                field(line, "mode", h.mode().name());
                separator = ",";
            }
            if (!lock.waiters().isEmpty()) {
                field(line, "waiting", Integer.toString(lock.waiters().size()));
            }
            lines.add(line.toString());
        }
        return lines;
    }

    private static void field(StringBuilder line, String key, String value) {
        if (value != null) {
            line.append(' ').append(key).append('=').append(value);
        }
    }

    /**
     * The JSON object: every field on every line ({@code null} where it does not apply), so that scripts can rely
     * on the shape. {@code type} and {@code cause} are the API's names; {@code mode} is lower-case and {@code
     * locks} (on {@code STATE} only) has the shape of {@code holdfast locks --json}.
     */
    private ObjectNode json(WatchEvent e) {
        boolean register = target.kind() == WatchTarget.Kind.REGISTER || target.kind() == WatchTarget.Kind.KEYS;
        boolean grant = e.type() == WatchEvent.Type.ACQUIRED || e.type() == WatchEvent.Type.RELEASED;
        ObjectNode o = JsonViews.JSON
                .createObjectNode()
                .put("type", e.type().name())
                .put("name", e.name())
                .put("session", e.sessionId())
                .put("token", grant ? Long.valueOf(e.fencingToken()) : null)
                .put("mode", e.mode() == null ? null : e.mode().name().toLowerCase(Locale.ROOT))
                .put("cause", e.cause() == null ? null : e.cause().name())
                .put("version", register ? Long.valueOf(e.version()) : null);
        Value value = Value.of(e.value());
        o.put("value", value == null ? null : value.text()).put("valueBase64", value != null && value.base64());
        o.put("counter", register ? counter(e.value()) : null);
        o.put("position", e.position());
        if (e.type() == WatchEvent.Type.STATE) {
            ArrayNode locks = o.putArray("locks");
            e.locks().forEach(l -> locks.add(JsonViews.lock(l)));
            if (target.kind() == WatchTarget.Kind.KEYS) {
                ArrayNode keys = o.putArray("keys");
                e.keys().forEach(k -> keys.add(keyJson(k)));
            }
        }
        return o;
    }

    private static String quoted(String text) {
        return JsonViews.JSON.getNodeFactory().textNode(text).toString();
    }

    /** A register's value as text: its UTF-8, or its base64 when it is not valid UTF-8. */
    record Value(String text, boolean base64) {
        static Value of(byte[] bytes) {
            if (bytes == null) {
                return null;
            }
            try {
                return new Value(
                        StandardCharsets.UTF_8
                                .newDecoder()
                                .onMalformedInput(CodingErrorAction.REPORT)
                                .onUnmappableCharacter(CodingErrorAction.REPORT)
                                .decode(ByteBuffer.wrap(bytes))
                                .toString(),
                        false);
            } catch (CharacterCodingException e) {
                return new Value(Base64.getEncoder().encodeToString(bytes), true);
            }
        }
    }
}
