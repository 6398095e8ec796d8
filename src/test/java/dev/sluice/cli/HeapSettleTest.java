package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class HeapSettleTest {

    private static long youngCollections(String name) {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().filter(b -> b.getName().equals(name))
                .mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
    }

    @Test
    void runsTheYoungCollectorTwice() {
        String collector = ManagementFactory.getGarbageCollectorMXBeans().get(0).getName();
        long before = youngCollections(collector);
        HeapSettle.Result r = HeapSettle.run();
        // The test JVM runs G1 or Serial (both young collectors HeapSettle knows); anything else would skip.
        assertThat(r.ran()).isTrue();
        assertThat(r.collector()).isEqualTo(collector);
        assertThat(r.collections()).isEqualTo(2);
        assertThat(youngCollections(collector) - before).isGreaterThanOrEqualTo(2);
        assertThat(r.allocatedBytes()).isPositive();
    }
}
