package io.holdfast.server.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;

/**
 * The dashboard's static files, packaged in the jar (no CDN, nothing fetched at run time): one
 * page, one script, one style sheet; and the JSON API's OpenAPI description ({@code
 * /api/openapi.json}). The page holds no data; the script reads the JSON API every
 * second, with the bearer token the operator pastes (kept in the browser tab's session storage) or
 * the browser's client certificate.
 */
final class Dashboard {
    /** One file: its bytes and content type. */
    record Asset(String contentType, byte[] bytes) {}

    private static final Map<String, String> FILES = Map.of(
            "/", "index.html",
            "/index.html", "index.html",
            "/assets/app.js", "app.js",
            "/assets/style.css", "style.css",
            "/favicon.ico", "favicon.svg",
            "/api/openapi.json", "openapi.json");

    private static final Map<String, Asset> CACHE = new java.util.concurrent.ConcurrentHashMap<>();

    private Dashboard() {}

    /** The asset served at {@code path}, or empty. */
    static Optional<Asset> asset(String path) {
        String file = FILES.get(path);
        if (file == null) {
            return Optional.empty();
        }
        return Optional.of(CACHE.computeIfAbsent(file, Dashboard::load));
    }

    private static Asset load(String file) {
        try (InputStream in = Dashboard.class.getResourceAsStream("dashboard/" + file)) {
            if (in == null) {
                throw new IllegalStateException("the dashboard file " + file + " is missing from the jar");
            }
            return new Asset(type(file), in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String type(String file) {
        if (file.endsWith(".html")) {
            return "text/html; charset=utf-8";
        } else if (file.endsWith(".js")) {
            return "text/javascript; charset=utf-8";
        } else if (file.endsWith(".css")) {
            return "text/css; charset=utf-8";
        } else if (file.endsWith(".json")) {
            return "application/json";
        }
        return "image/svg+xml";
    }
}
