package io.holdfast.bench.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * A load run's latency plot as one self-contained HTML file (an inline SVG; no script, nothing
 * fetched): latency against percentile on the usual log scale of HdrHistogram's plots, where each
 * step to the right is ten times rarer (90%, 99%, 99.9%, …), one line per operation. Under it, the
 * run's table of percentiles.
 */
public final class LatencyPlot {
    private static final int WIDTH = 880;
    private static final int HEIGHT = 440;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 30;
    private static final int BOTTOM = 50;
    /** The x axis ends at 99.999%: five nines, 10^5 on the log scale. */
    private static final double MAX_X = 5;

    private static final String[] COLOURS = {"#2b6cb0", "#c05621", "#2f855a", "#6b46c1"};

    private LatencyPlot() {}

    /** Writes the plot of {@code report} to {@code file}. */
    public static void write(Path file, LoadReport report) throws IOException {
        Map<String, Histogram> lines = new LinkedHashMap<>();
        lines.put("acquire+release", report.pair());
        lines.put("acquire", report.acquire());
        lines.put("release", report.release());
        String title = report.settings().describe() + " at " + report.settings().backend();
        Files.writeString(file, html(title, lines, report), StandardCharsets.UTF_8);
    }

    /** The points of one histogram (microseconds): (log10 of 1/(1-p), milliseconds). */
    static List<double[]> points(Histogram h) {
        List<double[]> out = new ArrayList<>();
        if (h.getTotalCount() == 0) {
            return out;
        }
        for (HistogramIterationValue v : h.percentiles(5)) {
            double p = v.getPercentileLevelIteratedTo() / 100.0;
            double x = p >= 1 ? MAX_X : Math.min(MAX_X, Math.log10(1 / (1 - p)));
            out.add(new double[] {x, v.getValueIteratedTo() / 1000.0});
            if (x >= MAX_X) {
                break;
            }
        }
        return out;
    }

    static String html(String title, Map<String, Histogram> lines, LoadReport report) {
        double maxMs = 0;
        Map<String, List<double[]>> series = new LinkedHashMap<>();
        for (Map.Entry<String, Histogram> e : lines.entrySet()) {
            List<double[]> pts = points(e.getValue());
            series.put(e.getKey(), pts);
            for (double[] p : pts) {
                maxMs = Math.max(maxMs, p[1]);
            }
        }
        double top = niceCeiling(maxMs <= 0 ? 1 : maxMs * 1.05);
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(
                Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
                        + " font-family=\"sans-serif\" font-size=\"12\">%n",
                WIDTH,
                HEIGHT,
                WIDTH,
                HEIGHT));
        int plotW = WIDTH - LEFT - RIGHT;
        int plotH = HEIGHT - TOP - BOTTOM;
        String[] xLabels = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"};
        for (int i = 0; i <= MAX_X; i++) {
            double x = LEFT + plotW * i / MAX_X;
            svg.append(line(x, TOP, x, TOP + plotH, "#e2e8f0"));
            svg.append(text(x, TOP + plotH + 18, "middle", xLabels[i]));
        }
        for (int i = 0; i <= 5; i++) {
            double v = top * i / 5;
            double y = TOP + plotH - plotH * i / 5.0;
            svg.append(line(LEFT, y, LEFT + plotW, y, "#e2e8f0"));
            svg.append(text(LEFT - 6, y + 4, "end", trim(v)));
        }
        svg.append(text(LEFT + plotW / 2.0, HEIGHT - 8, "middle", "percentile"));
        svg.append(String.format(
                Locale.ROOT,
                "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 16 %.1f)\">latency (ms)</text>%n",
                TOP + plotH / 2.0,
                TOP + plotH / 2.0));
        int c = 0;
        for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
            String colour = COLOURS[c % COLOURS.length];
            StringBuilder path = new StringBuilder();
            for (double[] p : e.getValue()) {
                double x = LEFT + plotW * p[0] / MAX_X;
                double y = TOP + plotH - plotH * Math.min(p[1], top) / top;
                path.append(path.length() == 0 ? "M" : " L").append(String.format(Locale.ROOT, "%.1f %.1f", x, y));
            }
            if (path.length() > 0) {
                svg.append(String.format(
                        "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>%n", path, colour));
            }
            double ly = TOP + 6 + 16 * c;
            svg.append(line(LEFT + 12, ly, LEFT + 36, ly, colour));
            svg.append(text(LEFT + 42, ly + 4, "start", e.getKey()));
            c++;
        }
        svg.append("</svg>\n");
        java.io.StringWriter table = new java.io.StringWriter();
        report.print(new java.io.PrintWriter(table));
        return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(title)
                + "</title></head>\n<body style=\"font-family:sans-serif;margin:2rem\">\n<h1 style=\"font-size:1.2rem\">"
                + escape(title) + "</h1>\n" + svg + "<pre>" + escape(table.toString()) + "</pre>\n</body></html>\n";
    }

    private static String line(double x1, double y1, double x2, double y2, String colour) {
        return String.format(
                Locale.ROOT,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1\"/>%n",
                x1,
                y1,
                x2,
                y2,
                colour);
    }

    private static String text(double x, double y, String anchor, String s) {
        return String.format(
                Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>%n", x, y, anchor, escape(s));
    }

    private static String trim(double v) {
        return v >= 10 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
    }

    /** 1, 2, 5 times a power of ten, at or above {@code v}. */
    static double niceCeiling(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
