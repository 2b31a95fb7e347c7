/*
 * Service registry: register an instance under the session, list and watch the group, print joins
 * and leaves (docs/service-discovery.md; the same program is in Python, Node and Go). One file, run
 * on the CLI's jar (it holds the client):
 *
 *   java -cp holdfast-cli/target/holdfast.jar examples/service-registry/ServiceRegistry.java SERVICE [INSTANCE ADDRESS]
 *
 * With INSTANCE and ADDRESS it joins the group services/SERVICE as INSTANCE = ADDRESS (the key
 * services/SERVICE/INSTANCE, attached to its session), so the entry goes when the process dies
 * (after the session's TTL: HOLDFAST_TTL_MS, default 10000), a name another live instance holds is
 * refused, and after an outage longer than the TTL the instance joins again on its new session
 * ("lost I: held by S" if another session took the name meanwhile). It prints "member I A" per instance listed, "ready", then "join I A" and
 * "leave I CAUSE" as the group changes, until killed. HOLDFAST_URI: the cluster (default
 * holdfast://127.0.0.1:4653).
 */
import io.holdfast.ClientOptions;
import io.holdfast.ConflictException;
import io.holdfast.GroupMembership;
import io.holdfast.KeyEntry;
import io.holdfast.Keys;
import io.holdfast.LockClient;
import io.holdfast.WatchEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

public final class ServiceRegistry {
    private ServiceRegistry() {}

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 1 && args.length != 3) {
            System.err.println("usage: ServiceRegistry SERVICE [INSTANCE ADDRESS]");
            System.exit(2);
        }
        String uri = Objects.requireNonNullElse(System.getenv("HOLDFAST_URI"), "holdfast://127.0.0.1:4653");
        long ttl = Long.parseLong(Objects.requireNonNullElse(System.getenv("HOLDFAST_TTL_MS"), "10000"));
        String prefix = "services/" + args[0] + "/"; // keys services/SERVICE/<instance>
        try (LockClient client = LockClient.open(
                uri,
                ClientOptions.builder()
                        .sessionTtl(Duration.ofMillis(ttl))
                        .clientName("service-registry")
                        .build())) {
            Keys keys = client.keys();
            if (args.length == 3) {
                // The group's join, as in the other three languages: attached to the session (gone
                // with it), refused while another live session holds the name, and joined again by
                // the recipe on the client's next session after an outage longer than the TTL.
                GroupMembership group = client.group("services/" + args[0]);
                group.addRejoinListener((member, holder) ->
                        System.out.println("lost " + member + ": held by " + (holder == null ? "no session" : holder)));
                try {
                    group.join(args[1], args[2].getBytes(StandardCharsets.UTF_8));
                } catch (ConflictException e) { // another live instance holds the name: never taken over
                    System.err.println("service-registry: " + e.getMessage());
                    System.exit(1);
                }
            }
            Map<String, String> known = new TreeMap<>();
            for (String after = ""; after != null; ) { // the listing, page by page
                var page = keys.list(prefix, after, Keys.MAX_PAGE);
                for (KeyEntry e : page.entries()) {
                    known.put(e.key().substring(prefix.length()), e.text());
                }
                after = page.next();
            }
            known.forEach((instance, address) -> System.out.println("member " + instance + " " + address));
            System.out.println("ready");
            keys.watch(prefix, event -> tell(event, prefix, known)); // state, then every change
            Thread.currentThread().join(); // until killed
        }
    }

    private static synchronized void tell(WatchEvent event, String prefix, Map<String, String> known) {
        String instance = event.name().startsWith(prefix) ? event.name().substring(prefix.length()) : event.name();
        switch (event.type()) {
            case STATE -> { // first, and after a gap
                Map<String, String> now = new TreeMap<>();
                event.keys().forEach(k -> now.put(k.key().substring(prefix.length()), k.text()));
                known.keySet().stream()
                        .filter(i -> !now.containsKey(i))
                        .forEach(i -> System.out.println("leave " + i + " unknown"));
                now.forEach((i, a) -> {
                    if (!known.containsKey(i)) {
                        System.out.println("join " + i + " " + a);
                    }
                });
                known.clear();
                known.putAll(now);
            }
            case REGISTER_SET -> {
                if (!known.containsKey(instance)) {
                    known.put(instance, new String(event.value(), StandardCharsets.UTF_8));
                    System.out.println("join " + instance + " " + known.get(instance));
                }
            }
            case REGISTER_DELETED -> {
                if (known.remove(instance) != null) {
                    System.out.println("leave " + instance + " " + cause(event.cause()));
                }
            }
            default -> {}
        }
    }

    /** {@code SESSION_EXPIRED} -> {@code sessionExpired}; a deletion by a client: {@code deleted}. */
    private static String cause(WatchEvent.Cause cause) {
        if (cause == null) {
            return "deleted";
        }
        String[] words = cause.name().toLowerCase(Locale.ROOT).split("_");
        StringBuilder b = new StringBuilder(words[0]);
        for (int i = 1; i < words.length; i++) {
            b.append(Character.toUpperCase(words[i].charAt(0))).append(words[i].substring(1));
        }
        return b.toString();
    }
}
