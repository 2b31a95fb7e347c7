package io.holdfast.bench.population;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The heap a node uses, read from {@code jcmd PID GC.heap_info}: the answers below are OpenJDK
 * 17's, copied from a JVM of each collector. The parallel collector's was not read before (the
 * population benchmark printed {@code ?} for its heap).
 */
class NodesTest {
    @Test
    void theSerialCollectorsGenerationsAreSummed() {
        String info = """
                 def new generation   total 116160K, used 6197K [0x0000000687400000, 0x000000068f200000, 0x0000000704d50000)
                  eden space 103296K,   6% used [0x0000000687400000, 0x0000000687a0d748, 0x000000068d8e0000)
                  from space 12864K,   0% used [0x000000068d8e0000, 0x000000068d8e0000, 0x000000068e570000)
                 tenured generation   total 258048K, used 1000K [0x0000000687400000, 0x0000000697000000, 0x0000000782700000)
                 Metaspace       used 73K, committed 320K, reserved 1114112K
                """;
        assertThat(Nodes.usedHeapBytes(info)).isEqualTo((6197 + 1000) * 1024L);
    }

    @Test
    void theParallelCollectorsGenerationsAreSummed() {
        String info = """
                 PSYoungGen      total 113152K, used 7782K [0x0000000782700000, 0x000000078a500000, 0x0000000800000000)
                  eden space 97280K, 8% used [0x0000000782700000,0x0000000782e99a98,0x0000000788600000)
                  from space 15872K, 0% used [0x0000000789580000,0x0000000789580000,0x000000078a500000)
                 ParOldGen       total 258048K, used 2048K [0x0000000687400000, 0x0000000697000000, 0x0000000782700000)
                  object space 258048K, 0% used [0x0000000687400000,0x0000000687400000,0x0000000697000000)
                 Metaspace       used 126K, committed 320K, reserved 1114112K
                  class space    used 3K, committed 128K, reserved 1048576K
                """;
        assertThat(Nodes.usedHeapBytes(info)).isEqualTo((7782 + 2048) * 1024L);
    }

    @Test
    void theGarbageFirstHeapIsRead() {
        String info = """
                 garbage-first heap   total 397312K, used 5003K [0x0000000687400000, 0x0000000800000000)
                  region size 4096K, 1 young (4096K), 0 survivors (0K)
                 Metaspace       used 73K, committed 320K, reserved 1114112K
                """;
        assertThat(Nodes.usedHeapBytes(info)).isEqualTo(5003 * 1024L);
    }

    @Test
    void anotherCollectorsAnswerIsUnknownNotZero() {
        String info = """
                 ZHeap           used 12M, capacity 64M, max capacity 1024M
                 Metaspace       used 73K, committed 320K, reserved 1114112K
                """;
        assertThat(Nodes.usedHeapBytes(info)).isEqualTo(-1);
    }
}
