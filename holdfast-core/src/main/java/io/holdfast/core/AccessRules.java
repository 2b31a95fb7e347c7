package io.holdfast.core;

import io.holdfast.InvalidArgumentException;
import io.holdfast.Names;
import io.holdfast.model.Command;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Who may do what to which names, and the quotas: the access rules that {@link LockTable} enforces
 * on every replica. They are part of the replicated state (changed only by a {@link
 * Command.SetAccessRules} entry in the log, kept in snapshots), so every replica checks the same
 * rules at the same point of the log.
 *
 * <p>The text form, one statement per line ({@code #} starts a comment):
 *
 * <pre>
 * user  alice   orders-writer reader        # an identity and its roles
 * role  orders-writer acquire orders/*  read orders/*
 * role  reader  read *
 * role  ops     admin *                     # every verb on every name, and changing these rules
 * limit sessions-per-identity 100           # quotas; see {@link Quotas} for the names and defaults
 * </pre>
 *
 * <p>A pattern is {@code *} (every name), {@code PREFIX/*} (every name that starts with {@code
 * PREFIX/}: not {@code PREFIX} itself, not {@code PREFIXother}), or one exact name. Names never
 * contain {@code .} or {@code ..} segments ({@link Names#check}), so {@code a/../b} is not a way
 * out of {@code a/*}. Deny by default: an identity without a {@code user} line, and a verb no role
 * grants, is refused. {@code admin} is granted only on {@code *}.
 *
 * <p>Immutable and thread-safe. {@link #text()} is the canonical form: parsing it gives equal rules.
 */
public final class AccessRules {
    /** What a permission allows. */
    public enum Verb {
        /** Acquire and renew locks, read locks and semaphores; write registers. */
        ACQUIRE,
        /** Describe and list locks, check tokens, read registers. */
        READ,
        /** Take grants away from their holders. */
        REVOKE,
        /** Everything, on every name, and change these rules. */
        ADMIN;

        String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The longest rule text accepted, in characters. */
    public static final int MAX_TEXT = 256 * 1024;

    /** One permission: a verb on the names a pattern matches. */
    public record Permission(Verb verb, String pattern) {
        public Permission {
            Objects.requireNonNull(verb, "verb");
            Objects.requireNonNull(pattern, "pattern");
        }

        /** Whether {@code name} is one of the names this permission's pattern matches. */
        public boolean matches(String name) {
            if (pattern.equals("*")) {
                return true;
            }
            if (pattern.endsWith("/*")) {
                String prefix = pattern.substring(0, pattern.length() - 1); // keeps the slash
                return name.length() > prefix.length() && name.startsWith(prefix);
            }
            return name.equals(pattern);
        }
    }

    /** No identities, no roles, default quotas: every authenticated request is refused. */
    public static final AccessRules DENY_ALL = new AccessRules(Map.of(), Map.of(), Quotas.DEFAULTS);

    private final Map<String, List<String>> users; // identity -> roles, in file order
    private final Map<String, List<Permission>> roles; // role -> permissions, in file order
    private final Quotas quotas;
    private final Map<String, Map<Verb, List<Permission>>> byUser; // derived

    private AccessRules(Map<String, List<String>> users, Map<String, List<Permission>> roles, Quotas quotas) {
        this.users = users;
        this.roles = roles;
        this.quotas = quotas;
        this.byUser = new LinkedHashMap<>();
        users.forEach((user, roleNames) -> {
            Map<Verb, List<Permission>> perms = new EnumMap<>(Verb.class);
            for (String role : roleNames) {
                for (Permission p : roles.getOrDefault(role, List.of())) {
                    perms.computeIfAbsent(p.verb(), v -> new ArrayList<>()).add(p);
                }
            }
            byUser.put(user, perms);
        });
    }

    /**
     * Parses the text form.
     *
     * @throws InvalidArgumentException naming the line and what is wrong with it: an unknown
     *     statement or verb, a bad pattern, a role that a user names but no line defines, an
     *     identity or role given twice, a quota that is not a positive number
     */
    public static AccessRules parse(String text) {
        if (text == null) {
            throw new InvalidArgumentException("access rules must not be null");
        }
        if (text.length() > MAX_TEXT) {
            throw new InvalidArgumentException(
                    "access rules are " + text.length() + " characters; the limit is " + MAX_TEXT);
        }
        Map<String, List<String>> users = new LinkedHashMap<>();
        Map<String, List<Permission>> roles = new LinkedHashMap<>();
        Map<String, Integer> userLines = new LinkedHashMap<>();
        long[] quotas = Quotas.DEFAULTS.values();
        String[] lines = text.split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n];
            int hash = line.indexOf('#');
            if (hash >= 0) {
                line = line.substring(0, hash);
            }
            String[] words = line.strip().split("\\s+");
            if (words.length == 1 && words[0].isEmpty()) {
                continue;
            }
            String where = "access rules, line " + (n + 1) + ": ";
            switch (words[0]) {
                case "user" -> {
                    if (words.length < 2) {
                        throw new InvalidArgumentException(where + "'user' needs an identity and its roles");
                    }
                    String user = identity(words[1], where);
                    List<String> roleNames =
                            new ArrayList<>(new LinkedHashSet<>(List.of(words).subList(2, words.length)));
                    roleNames.forEach(r -> word(r, "role", where));
                    if (users.put(user, List.copyOf(roleNames)) != null) {
                        throw new InvalidArgumentException(where + "identity " + user + " is given twice");
                    }
                    userLines.put(user, n + 1);
                }
                case "role" -> {
                    if (words.length < 2 || words.length % 2 != 0) {
                        throw new InvalidArgumentException(
                                where + "'role' needs a name, then pairs of verb and pattern");
                    }
                    String role = word(words[1], "role", where);
                    List<Permission> perms = new ArrayList<>();
                    for (int w = 2; w < words.length; w += 2) {
                        perms.add(permission(words[w], words[w + 1], where));
                    }
                    if (roles.put(role, List.copyOf(perms)) != null) {
                        throw new InvalidArgumentException(where + "role " + role + " is given twice");
                    }
                }
                case "limit" -> {
                    if (words.length != 3) {
                        throw new InvalidArgumentException(where + "'limit' needs a quota name and a number");
                    }
                    quotas[Quotas.index(words[1], where)] = Quotas.value(words[1], words[2], where);
                }
                default ->
                    throw new InvalidArgumentException(
                            where + "unknown statement '" + words[0] + "' (expected user, role or limit)");
            }
        }
        users.forEach((user, roleNames) -> {
            for (String role : roleNames) {
                if (!roles.containsKey(role)) {
                    throw new InvalidArgumentException("access rules, line " + userLines.get(user) + ": identity "
                            + user + " has role " + role + ", which no 'role' line defines");
                }
            }
        });
        return new AccessRules(users, roles, Quotas.of(quotas));
    }

    private static String identity(String word, String where) {
        if (word.length() > 256) {
            throw new InvalidArgumentException(where + "an identity is at most 256 characters");
        }
        return word;
    }

    private static String word(String word, String what, String where) {
        if (!word.matches("[A-Za-z0-9_.@-]{1,64}")) {
            throw new InvalidArgumentException(
                    where + "a " + what + " name is 1 to 64 characters of A-Z a-z 0-9 _ . @ -, not '" + word + "'");
        }
        return word;
    }

    private static Permission permission(String verbWord, String pattern, String where) {
        Verb verb;
        try {
            verb = Verb.valueOf(verbWord.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException(
                    where + "unknown verb '" + verbWord + "' (expected acquire, read, revoke or admin)");
        }
        if (verb == Verb.ADMIN && !pattern.equals("*")) {
            throw new InvalidArgumentException(where + "admin is granted on * only, not on " + pattern);
        }
        if (!pattern.equals("*")) {
            String name = pattern.endsWith("/*") ? pattern.substring(0, pattern.length() - 2) : pattern;
            try {
                Names.check(name);
            } catch (InvalidArgumentException e) {
                throw new InvalidArgumentException(where + "pattern " + pattern + ": " + e.getMessage());
            }
            if (name.contains("*")) {
                throw new InvalidArgumentException(
                        where + "pattern " + pattern + ": '*' stands alone or ends a pattern after '/'");
            }
        }
        return new Permission(verb, pattern);
    }

    /**
     * Whether {@code identity} may do {@code verb} to {@code name}. {@code admin} allows every verb.
     * An unknown identity, or null, may do nothing.
     */
    public boolean allows(String identity, Verb verb, String name) {
        Map<Verb, List<Permission>> perms = identity == null ? null : byUser.get(identity);
        if (perms == null) {
            return false;
        }
        if (!perms.getOrDefault(Verb.ADMIN, List.of()).isEmpty()) {
            return true;
        }
        for (Permission p : perms.getOrDefault(verb, List.of())) {
            if (p.matches(name)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the identity has a {@code user} line (it may open sessions). */
    public boolean knows(String identity) {
        return identity != null && users.containsKey(identity);
    }

    public Quotas quotas() {
        return quotas;
    }

    /** The identities, in file order. */
    public Set<String> identities() {
        return users.keySet();
    }

    /** The canonical text: statements in file order, comments and spacing dropped. */
    public String text() {
        StringBuilder b = new StringBuilder();
        users.forEach((user, roleNames) -> {
            b.append("user ").append(user);
            roleNames.forEach(r -> b.append(' ').append(r));
            b.append('\n');
        });
        roles.forEach((role, perms) -> {
            b.append("role ").append(role);
            perms.forEach(p -> b.append(' ').append(p.verb().word()).append(' ').append(p.pattern()));
            b.append('\n');
        });
        for (int i = 0; i < Quotas.NAMES.size(); i++) {
            if (quotas.get(i) != Quotas.DEFAULTS.get(i)) {
                b.append("limit ")
                        .append(Quotas.NAMES.get(i))
                        .append(' ')
                        .append(quotas.get(i))
                        .append('\n');
            }
        }
        return b.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AccessRules r && text().equals(r.text());
    }

    @Override
    public int hashCode() {
        return text().hashCode();
    }

    @Override
    public String toString() {
        return "AccessRules[" + users.size() + " identities, " + roles.size() + " roles]";
    }
}
