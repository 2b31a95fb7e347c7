package io.holdfast.it.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A driver program of another language's client, run as a process: commands as JSON lines on its
 * standard input, answers and reports read from its standard output by a thread of this object,
 * its standard error kept in a log file.
 */
final class ProcessDriver implements Driver {
    private final String name;
    private final Process process;
    private final OutputStream in;
    private final Map<Long, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final BlockingQueue<Report> reports = Driver.queue();
    private final AtomicLong ids = new AtomicLong();
    private final Thread reader;

    ProcessDriver(String name, List<String> command, Path dir, Path stderr) throws IOException {
        this.name = name;
        this.process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectError(ProcessBuilder.Redirect.appendTo(stderr.toFile()))
                .start();
        this.in = process.getOutputStream();
        this.reader = new Thread(this::read, "driver-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public CompletableFuture<JsonNode> send(ObjectNode command) {
        long id = ids.incrementAndGet();
        command.put("id", id);
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        try {
            byte[] line = (JSON.writeValueAsString(command) + "\n").getBytes(StandardCharsets.UTF_8);
            synchronized (in) {
                in.write(line);
                in.flush();
            }
        } catch (IOException e) {
            pending.remove(id);
            answer.completeExceptionally(new IOException(name + " driver: cannot send " + command + ": " + e, e));
        }
        return answer;
    }

    @Override
    public BlockingQueue<Report> reports() {
        return reports;
    }

    private void read() {
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                JsonNode json;
                try {
                    json = JSON.readTree(line);
                } catch (IOException e) {
                    reports.add(new Report(JSON.createObjectNode().put("unreadable", line), System.nanoTime()));
                    continue;
                }
                JsonNode id = json.get("id");
                if (id != null && id.canConvertToLong() && pending.containsKey(id.asLong())) {
                    pending.remove(id.asLong()).complete(json);
                } else {
                    reports.add(new Report(json, System.nanoTime()));
                }
            }
        } catch (IOException e) {
            // the process ended
        }
        IOException ended = new IOException(name + " driver ended (exit " + exit() + ")");
        pending.values().forEach(f -> f.completeExceptionally(ended));
    }

    private String exit() {
        try {
            return process.waitFor(5, TimeUnit.SECONDS) ? String.valueOf(process.exitValue()) : "still running";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    @Override
    public void close() {
        try {
            send(Driver.op("exit")).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // it is stopped below
        }
        try {
            in.close();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
