package dev.sluice.cli;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Moves the objects made at start-up (configuration, Netty, metrics, logging: several MB) out of the young
 * generation before clients arrive. Left alone, the first young collections under load each copy them: 8-21 ms
 * pauses on a 2-core machine, against ~1 ms for a collection once they are in the old generation (see
 * docs/benchmarks.md, "GC pauses"). Done here, that pause lands while no client waits.
 *
 * <p>The JVM has no call for a young collection, and {@code System.gc()} is a full one that leaves the young
 * collections after it 3-5x slower (objects made next age through the survivor spaces for 15 collections
 * instead of being promoted). So this allocates short-lived arrays until the young collector has run
 * twice: the first collection copies the start-up objects to a survivor space, the second promotes them.
 * Only for stop-the-world copying young collectors (Serial, Parallel, G1); ZGC and Shenandoah are skipped.
 */
final class HeapSettle {
    /** GarbageCollectorMXBean names of the young collectors this applies to. */
    private static final Set<String> YOUNG_COLLECTORS = Set.of("Copy", "PS Scavenge", "G1 Young Generation");
    private static final int COLLECTIONS = 2;
    private static final int CHUNK = 64 * 1024; // below G1's humongous size for any region size
    private static final long TIME_LIMIT_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static volatile Object sink;

    /** What was done, for the log. */
    record Result(boolean ran, int collections, long allocatedBytes, long millis, String collector) {
    }

    private HeapSettle() {
    }

    static Result run() {
        List<GarbageCollectorMXBean> young = ManagementFactory.getGarbageCollectorMXBeans().stream()
                .filter(b -> YOUNG_COLLECTORS.contains(b.getName())).toList();
        if (young.size() != 1) {
            return new Result(false, 0, 0, 0, "");
        }
        GarbageCollectorMXBean gc = young.get(0);
        long start = System.nanoTime();
        long before = gc.getCollectionCount();
        long limit = 8 * Math.max(Runtime.getRuntime().maxMemory(), 64L << 20); // a bound, should eden be odd
        long allocated = 0;
        while (gc.getCollectionCount() - before < COLLECTIONS && allocated < limit
                && System.nanoTime() - start < TIME_LIMIT_NANOS) {
            for (int k = 0; k < 64; k++) {
                sink = new byte[CHUNK]; // a volatile store: the JIT cannot drop the allocation as dead
            }
            allocated += 64L * CHUNK;
        }
        sink = null;
        int done = (int) (gc.getCollectionCount() - before);
        return new Result(true, done, allocated, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
                gc.getName());
    }
}
