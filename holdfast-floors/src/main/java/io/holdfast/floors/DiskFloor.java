package io.holdfast.floors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * The disk alone, under every engine's floor: a 101-byte write and {@code fdatasync} in a loop.
 *
 * <pre>
 * holdfast-floors/floors.sh --disk [--as-ratis] [--dir DIR]     (runs this class)
 * </pre>
 */
public final class DiskFloor {
    public static void main(String[] args) throws IOException {
        boolean asRatis = false;
        Path dir = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--as-ratis" -> asRatis = true;
                case "--dir" -> dir = Path.of(args[++i]);
                default -> {
                    System.err.println("disk floor: unknown option " + args[i] + "; usage: [--as-ratis] [--dir DIR]");
                    System.exit(64);
                }
            }
        }
        Path base = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("disk-floor");
        disk(base.resolve("disk-floor.bin"), asRatis, Duration.ofSeconds(5), Duration.ofSeconds(10));
    }

    /**
     * The disk alone: a 101-byte write and {@code fdatasync} ({@code force(false)}), in a loop, into a file laid out
     * as Ratis lays out an open log segment (a header, then 4 MB appended at the end of the file); {@code asRatis}
     * also asks the channel for its position and size before each write, as Ratis's preallocation check does.
     */
    static void disk(Path file, boolean asRatis, Duration warmup, Duration duration) throws IOException {
        Files.deleteIfExists(file);
        try (FileChannel fc = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            fc.write(ByteBuffer.wrap(new byte[8]));
            ByteBuffer fill = ByteBuffer.allocateDirect(4 << 20);
            fc.write(fill.duplicate(), fc.size());
            fc.position(8);
            fc.force(false);
            ByteBuffer entry = ByteBuffer.allocateDirect(101);
            long position = 8;
            long size = fc.size();
            for (Duration phase : List.of(warmup, duration)) {
                Histogram latency = new Histogram(3);
                long start = System.nanoTime();
                long end = start + phase.toNanos();
                while (System.nanoTime() < end) {
                    entry.clear();
                    long t0 = System.nanoTime();
                    if (asRatis) {
                        position = fc.position();
                        size = fc.size();
                    }
                    if (position + entry.capacity() > size) {
                        fc.write(fill.duplicate(), size); // the next 4 MB, as Ratis preallocates
                        size += fill.capacity();
                    }
                    fc.write(entry);
                    fc.force(false);
                    position += entry.capacity();
                    latency.recordValue(System.nanoTime() - t0);
                }
                if (phase == duration) {
                    System.out.printf(
                            Locale.ROOT,
                            "disk floor%s: %d write+fdatasync in %.1f s, p50 %.1f µs, p99 %.1f µs%n",
                            asRatis ? " (position and size asked before each write, as Ratis does)" : "",
                            latency.getTotalCount(),
                            (System.nanoTime() - start) / 1e9,
                            latency.getValueAtPercentile(50) / 1000.0,
                            latency.getValueAtPercentile(99) / 1000.0);
                }
            }
        }
    }

    private DiskFloor() {}
}
