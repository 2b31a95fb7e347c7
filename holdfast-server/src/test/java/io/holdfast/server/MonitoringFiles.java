package io.holdfast.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.Yaml;

/**
 * The monitoring files the distribution ships ({@code holdfast-dist/src/dist/monitoring}): the
 * alert rules and the Grafana dashboard, their PromQL expressions, and the metric names those
 * name.
 */
final class MonitoringFiles {
    static final Path DIR = Path.of("..", "holdfast-dist", "src", "dist", "monitoring")
            .toAbsolutePath()
            .normalize();
    static final Path RULES = DIR.resolve("holdfast-alerts.yml");
    static final Path DASHBOARD = DIR.resolve("holdfast-dashboard.json");

    private static final Set<String> KEYWORDS = Set.of(
            "and",
            "or",
            "unless",
            "bool",
            "offset",
            "by",
            "without",
            "on",
            "ignoring",
            "group_left",
            "group_right",
            "inf",
            "nan",
            "atan2");
    private static final Pattern LABEL_LISTS =
            Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w.:])[a-zA-Z_:][a-zA-Z0-9_:]*");

    /** One alerting rule as the rules file gives it. */
    record Alert(String name, String expr, Map<String, String> labels, Map<String, String> annotations) {
        /** Its annotations as Prometheus renders them for an alert with these labels ({@code $labels.x} only). */
        Map<String, String> annotationsFor(Map<String, String> alertLabels) {
            Map<String, String> out = new LinkedHashMap<>();
            annotations.forEach((k, v) -> {
                Matcher m =
                        Pattern.compile("\\{\\{\\s*\\$labels\\.(\\w+)\\s*}}").matcher(v);
                out.put(k, m.replaceAll(r -> Matcher.quoteReplacement(alertLabels.getOrDefault(r.group(1), ""))));
            });
            return out;
        }
    }

    private MonitoringFiles() {}

    /** The alerting rules, by name, in the file's order. */
    @SuppressWarnings("unchecked")
    static Map<String, Alert> alerts() throws IOException {
        Map<String, Alert> out = new LinkedHashMap<>();
        try (Reader r = Files.newBufferedReader(RULES)) {
            Map<String, Object> file = new Yaml().load(r);
            for (Map<String, Object> group : (List<Map<String, Object>>) file.get("groups")) {
                for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                    String name = (String) rule.get("alert");
                    out.put(
                            name,
                            new Alert(
                                    name,
                                    (String) rule.get("expr"),
                                    (Map<String, String>) rule.getOrDefault("labels", Map.of()),
                                    (Map<String, String>) rule.getOrDefault("annotations", Map.of())));
                }
            }
        }
        return out;
    }

    /**
     * Every PromQL expression of the dashboard: its panels' targets and its variables' queries
     * ({@code label_values(expr, label)} gives its {@code expr}), with Grafana's variables
     * replaced by values PromQL parses.
     */
    static List<String> dashboardExpressions() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        List<String> out = new ArrayList<>();
        for (JsonNode expr : dashboard.findValues("expr")) {
            out.add(expr.asText());
        }
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            JsonNode query = variable.path("query");
            String text = query.isObject() ? query.path("query").asText() : "";
            Matcher m = Pattern.compile("label_values\\((.*),\\s*\\w+\\)").matcher(text);
            if (m.matches()) {
                out.add(m.group(1));
            }
        }
        return out.stream()
                .map(e -> e.replace("$__rate_interval", "1m").replace("$job", "holdfast"))
                .toList();
    }

    /** The metric names a PromQL expression selects (not its functions, keywords or labels). */
    static Set<String> metricNames(String expr) {
        String s = expr.replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"") // strings
                .replaceAll("\\{[^}]*}", "") // label matchers
                .replaceAll("\\[[^]]*]", ""); // ranges
        s = LABEL_LISTS.matcher(s).replaceAll(" ");
        Set<String> out = new LinkedHashSet<>();
        Matcher m = IDENTIFIER.matcher(s);
        while (m.find()) {
            String id = m.group();
            String rest = s.substring(m.end()).stripLeading();
            if (!rest.startsWith("(") && !KEYWORDS.contains(id.toLowerCase(java.util.Locale.ROOT))) {
                out.add(id);
            }
        }
        return out;
    }
}
