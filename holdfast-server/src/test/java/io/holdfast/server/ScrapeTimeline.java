package io.holdfast.server;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scrapes of a node's {@code /metrics}, laid end to end as promtool's input series: each {@link
 * Frame} is one round of scrapes (by scrape target, {@code instance}) that stands for a number of
 * 15 s steps. A series missing from a frame after it was present is marked {@code stale}, as
 * Prometheus marks the series of a target it can no longer scrape; a series that a frame measured
 * growing with the clock (a time since something) grows with the steps.
 */
final class ScrapeTimeline {
    static final int STEP_SECONDS = 15;
    private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? (\\S+)$");

    /** One scrape's samples: series (name and labels, as exposed) to value. */
    static Map<String, Double> samples(String text) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            Matcher m = LINE.matcher(line.trim());
            if (line.startsWith("#") || !m.matches()) {
                continue;
            }
            double v = Double.parseDouble(m.group(4));
            if (!Double.isNaN(v) && !Double.isInfinite(v)) {
                out.put(m.group(1) + "{" + (m.group(3) == null ? "" : m.group(3)) + "}", v);
            }
        }
        return out;
    }

    /** The metric names one scrape exposes (histograms as their {@code _bucket}, {@code _sum}, {@code _count}). */
    static Set<String> names(String text) {
        Set<String> names = new LinkedHashSet<>();
        for (String line : text.split("\n")) {
            Matcher m = LINE.matcher(line.trim());
            if (!line.startsWith("#") && m.matches()) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    /**
     * A round of scrapes, by target, lasting {@code steps} steps; the series in {@code clock} grow
     * by a step's seconds each step.
     */
    record Frame(Map<String, String> scrapes, int steps, Set<String> clock) {
        Frame(Map<String, String> scrapes, int steps) {
            this(scrapes, steps, Set.of());
        }

        Frame lasting(int n) {
            return new Frame(scrapes, n, clock);
        }
    }

    private ScrapeTimeline() {}

    /**
     * promtool's {@code input_series} for these frames, in order, of the series whose metric name
     * starts with {@code prefix}, each labelled with {@code job} and its target as {@code instance}.
     */
    static List<Map<String, String>> inputSeries(String job, String prefix, List<Frame> frames) {
        Map<String, List<String>> values = new TreeMap<>();
        int step = 0;
        for (Frame f : frames) {
            Map<String, Double> now = new TreeMap<>();
            Set<String> growing = new java.util.HashSet<>();
            for (Map.Entry<String, String> target : f.scrapes().entrySet()) {
                for (Map.Entry<String, Double> s : samples(target.getValue()).entrySet()) {
                    if (s.getKey().startsWith(prefix)) {
                        String series = relabel(s.getKey(), job, target.getKey());
                        now.put(series, s.getValue());
                        if (f.clock().contains(s.getKey())) {
                            growing.add(series);
                        }
                    }
                }
            }
            for (int i = 0; i < f.steps(); i++, step++) {
                for (String series : now.keySet()) {
                    values.computeIfAbsent(series, k -> new ArrayList<>());
                }
                for (Map.Entry<String, List<String>> e : values.entrySet()) {
                    List<String> v = e.getValue();
                    while (v.size() < step) {
                        v.add("_");
                    }
                    Double value = now.get(e.getKey());
                    if (value != null) {
                        v.add(Double.toString(value + (growing.contains(e.getKey()) ? i * STEP_SECONDS : 0)));
                    } else {
                        boolean wasThere = !v.isEmpty()
                                && !v.get(v.size() - 1).equals("_")
                                && !v.get(v.size() - 1).equals("stale");
                        v.add(wasThere ? "stale" : "_");
                    }
                }
            }
        }
        List<Map<String, String>> out = new ArrayList<>();
        values.forEach((series, v) -> out.add(Map.of("series", series, "values", String.join(" ", v))));
        return out;
    }

    /** {@code name{a="1"}} as {@code name{a="1",instance="…",job="…"}}. */
    private static String relabel(String series, String job, String instance) {
        int brace = series.indexOf('{');
        String labels = series.substring(brace + 1, series.length() - 1);
        String added = "instance=\"" + instance + "\",job=\"" + job + "\"";
        return series.substring(0, brace) + "{" + (labels.isEmpty() ? added : labels + "," + added) + "}";
    }
}
