package dev.sluice.bench;

import dev.sluice.protocol.OutboundBatch;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Forwarding the frames of one read burst to the peer channel, then one flush: each frame written on its
 * own ({@code perFrame}: one outbound entry per frame) against {@link OutboundBatch} ({@code batched}:
 * small frames copied into one pooled buffer, one outbound entry). The frames are retained slices of the
 * read buffer, as FrameDecoder emits them. The channel is an EmbeddedChannel, so what is measured is
 * Sluice's and Netty's per-write bookkeeping, not the syscall: on a real socket the per-frame variant also
 * hands the kernel one iovec per frame, which this benchmark does not see.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled") // as the shipped runtime runs
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ForwardBurstBenchmark {
    @Param({"selectReply", "selectReply100Rows"})
    public String burst;

    private Bursts.Burst bytes;
    private EmbeddedChannel channel;
    private OutboundBatch batch;

    @Setup
    public void setUp() {
        bytes = Bursts.named(burst);
        channel = new EmbeddedChannel();
        batch = new OutboundBatch(channel);
    }

    @TearDown
    public void tearDown() {
        channel.finishAndReleaseAll();
        bytes.bytes().release();
    }

    @Benchmark
    public int perFrame() {
        ByteBuf in = bytes.bytes().retainedDuplicate();
        for (int len : bytes.frameLengths()) {
            channel.write(in.readRetainedSlice(len), channel.voidPromise());
        }
        in.release();
        channel.flush();
        return drain();
    }

    @Benchmark
    public int batched() {
        ByteBuf in = bytes.bytes().retainedDuplicate();
        for (int len : bytes.frameLengths()) {
            batch.add(in.readRetainedSlice(len));
        }
        in.release();
        batch.writeCollected();
        channel.flush();
        return drain();
    }

    /** What the socket would send: the bytes written, released (the transport's job after a write). */
    private int drain() {
        int n = 0;
        for (Object o; (o = channel.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            n += b.readableBytes();
            b.release();
        }
        return n;
    }
}
