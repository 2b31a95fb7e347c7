package io.holdfast.verify.history;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Reading and writing record files: one JSON object per line, each with a {@code "rec"} field
 * naming its type (see {@link Record}).
 */
public final class History {
    private static final ObjectMapper JSON =
            new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private History() {}

    /** One record as one line of JSON (no newline). */
    public static String toLine(Record r) {
        try {
            return JSON.writeValueAsString(r);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + r, e);
        }
    }

    /**
     * Parses one line.
     *
     * @throws IllegalArgumentException naming the line if it is not a record
     */
    public static Record fromLine(String line) {
        try {
            return JSON.readValue(line, Record.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    "not a history record: " + abbreviate(line) + " (" + e.getOriginalMessage() + ")", e);
        }
    }

    /**
     * Reads every record of a file, in file order. A last line cut short (the writer was killed in
     * the middle of it) is skipped; a bad line anywhere else is an error.
     *
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException naming the file and line of a damaged record
     */
    public static List<Record> read(Path file) throws IOException {
        List<Record> out = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            String pending = null;
            int lineNo = 0;
            int pendingNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (pending != null) {
                    out.add(parse(file, pendingNo, pending));
                }
                pending = line.isBlank() ? null : line;
                pendingNo = lineNo;
            }
            if (pending != null) {
                try {
                    out.add(fromLine(pending));
                } catch (IllegalArgumentException torn) {
                    // the writer died mid-line: the event never completed
                }
            }
        }
        return out;
    }

    /** Reads several files and orders all their records by time (stable for equal times). */
    public static List<Record> readAll(List<Path> files) throws IOException {
        List<Record> all = new ArrayList<>();
        for (Path f : files) {
            all.addAll(read(f));
        }
        all.sort(Comparator.comparingLong(Record::time));
        return all;
    }

    /** Writes records to a file, one per line, replacing it. */
    public static void write(Path file, List<? extends Record> records) throws IOException {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Record r : records) {
                out.write(toLine(r));
                out.newLine();
            }
        }
    }

    private static Record parse(Path file, int lineNo, String line) {
        try {
            return fromLine(line);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ":" + lineNo + ": " + e.getMessage(), e);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 120 ? s : s.substring(0, 117) + "...";
    }

    /**
     * Appends records to a file as they happen, one line each, flushed at once so that a process
     * killed with SIGKILL leaves every event it had recorded (at most its last line torn).
     * Thread-safe.
     */
    public static final class Writer implements Closeable {
        private final BufferedWriter out;

        public Writer(Path file) throws IOException {
            this.out = Files.newBufferedWriter(
                    file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }

        /** Appends one record. @throws UncheckedIOException if the file cannot be written */
        public synchronized void append(Record r) {
            try {
                out.write(toLine(r));
                out.newLine();
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public synchronized void close() throws IOException {
            out.close();
        }
    }
}
