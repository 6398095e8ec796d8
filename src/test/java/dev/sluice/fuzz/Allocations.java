package dev.sluice.fuzz;

import java.lang.management.ManagementFactory;

/**
 * Measures the heap bytes the current thread allocates while a parser reads one input, so a fuzz target can
 * assert that allocation follows the bytes actually received and never a length field the peer wrote:
 * a 5-byte header claiming 2^31-1 bytes must not cost 2 GiB. Netty buffers are counted too when the
 * channel uses an unpooled heap allocator ({@link #HEAP}).
 */
public final class Allocations {
    /** Unpooled heap buffers: every Netty allocation is a byte[] this thread's counter sees. */
    public static final io.netty.buffer.ByteBufAllocator HEAP = new io.netty.buffer.UnpooledByteBufAllocator(false);

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private Allocations() {}

    /** Bytes allocated by the current thread so far (monotonic). */
    public static long allocatedByThisThread() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    /**
     * The most a parser may allocate for {@code inputBytes} of input: a generous multiple (strings decoded to
     * UTF-16, maps, exception messages, buffer doubling) plus a fixed allowance for the JVM's own bookkeeping
     * and the fuzzer's hooks. An allocation sized by an untrusted length field (up to 2 GiB) is far above it.
     */
    public static long budgetFor(long inputBytes, long allowance) {
        return 64 * inputBytes + allowance;
    }

    /**
     * Runs {@code parse} twice and fails when the second run allocated more than {@link #budgetFor}
     * ({@code allowance}: 64 MiB. In fuzzing mode Jazzer's comparison hooks allocate on this thread too, about
     * 10 MB for a 175-byte SET with a backtracking regex; a length-driven allocation is gigabytes). The
     * first run pays for class loading, regex compilation and the JIT, which have nothing to do with the
     * input; an allocation sized by a length field is there in both runs.
     */
    public static void assertBounded(long inputBytes, long allowance, String what, Runnable parse) {
        parse.run();
        long before = allocatedByThisThread();
        parse.run();
        long used = allocatedByThisThread() - before;
        if (used > budgetFor(inputBytes, allowance)) {
            throw new AssertionError(what + " allocated " + used + " bytes for " + inputBytes
                    + " bytes of input (budget " + budgetFor(inputBytes, allowance) + "): allocation follows a length field");
        }
    }
}
