package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * HeapSettle runs in a JVM of its own, started with the options Sluice ships with (bin/jvm.options), and
 * with G1 on a heap of the same size: in the test JVM itself (G1 sized from the machine's memory, an eden of
 * gigabytes) filling eden twice could take longer than HeapSettle's time bound on a busy machine, which made
 * the test depend on the machine rather than on HeapSettle.
 */
class HeapSettleTest {

    /** Child JVM: runs HeapSettle once, prints "collector collections delta allocated" on one line. */
    public static void main(String[] args) {
        String collector = HeapSettle.run().collector();
        long before = youngCollections(collector);
        HeapSettle.Result r = HeapSettle.run(); // again: the first run above also settled class loading
        System.out.println("RESULT " + r.ran() + " " + r.collector().replace(' ', '_') + " " + r.collections() + " "
                + (youngCollections(collector) - before) + " " + r.allocatedBytes());
    }

    private static long youngCollections(String name) {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().filter(b -> b.getName().equals(name))
                .mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
    }

    private static String[] runChild(List<String> jvmOptions) throws IOException, InterruptedException {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", classpath, HeapSettleTest.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        String line = out.lines().filter(l -> l.startsWith("RESULT ")).findFirst().orElseThrow(
                () -> new AssertionError("no RESULT line from the child JVM:\n" + out));
        return line.split(" ");
    }

    private static List<String> shippedOptions() throws IOException {
        return Files.readAllLines(Path.of("bin", "jvm.options")).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    @Test
    void runsTheYoungCollectorTwiceWithTheShippedOptions() throws Exception {
        List<String> options = shippedOptions();
        assertThat(options).contains("-XX:+UseSerialGC");
        String[] r = runChild(options);
        assertThat(r[1]).isEqualTo("true");
        assertThat(r[2]).isEqualTo("Copy"); // Serial's young collector
        assertThat(r[3]).isEqualTo("2");
        assertThat(Long.parseLong(r[4])).isGreaterThanOrEqualTo(2);
        assertThat(Long.parseLong(r[5])).isPositive();
    }

    @Test
    void runsTheYoungCollectorTwiceOnG1() throws Exception {
        String[] r = runChild(List.of("-XX:+UseG1GC", "-Xms256m", "-Xmx256m"));
        assertThat(r[1]).isEqualTo("true");
        assertThat(r[2]).isEqualTo("G1_Young_Generation");
        assertThat(r[3]).isEqualTo("2");
        assertThat(Long.parseLong(r[4])).isGreaterThanOrEqualTo(2);
    }
}
