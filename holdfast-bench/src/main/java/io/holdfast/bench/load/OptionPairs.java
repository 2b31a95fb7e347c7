package io.holdfast.bench.load;

import java.util.ArrayList;
import java.util.List;

/** The {@code --name value} pairs of the benchmarks' small command lines, in order. */
final class OptionPairs {
    private OptionPairs() {}

    /**
     * The pairs of {@code args}, or null if help was asked for ({@code -h}, {@code --help}).
     *
     * @throws IllegalArgumentException for an option without a value
     */
    static List<String[]> read(String[] args) {
        List<String[]> pairs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            if (name.equals("-h") || name.equals("--help")) {
                return null;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(name + " needs a value");
            }
            pairs.add(new String[] {name, args[++i]});
        }
        return pairs;
    }
}
