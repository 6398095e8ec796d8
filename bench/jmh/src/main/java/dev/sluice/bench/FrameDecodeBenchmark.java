package dev.sluice.bench;

import dev.sluice.protocol.FrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
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
 * FrameDecoder splitting one read burst into frames, as on every read of a client or server channel: the
 * burst arrives whole in one buffer (the common case for small replies), the decoder emits retained
 * slices, and the next handler (here a sink that counts and releases them) gets each one. Time is per
 * burst; divide by the frame count (selectReply 4, selectReply100Rows 103, extendedPipeline 5) for a
 * frame's cost.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled") // as the shipped runtime runs
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class FrameDecodeBenchmark {
    @Param({"selectReply", "selectReply100Rows", "extendedPipeline"})
    public String burst;

    private Bursts.Burst bytes;
    private EmbeddedChannel channel;
    private Sink sink;

    /** The handler after the decoder: counts the frames (so they are not dead code) and releases them. */
    static final class Sink extends ChannelInboundHandlerAdapter {
        int frames;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf f = (ByteBuf) msg;
            frames += f.getByte(f.readerIndex()); // touch the frame, as a handler reading its type would
            f.release();
        }
    }

    @Setup
    public void setUp() {
        bytes = Bursts.named(burst);
        sink = new Sink();
        channel = new EmbeddedChannel(new FrameDecoder(false, 10_000, 1 << 20), sink);
    }

    @TearDown
    public void tearDown() {
        channel.finishAndReleaseAll();
        bytes.bytes().release();
    }

    @Benchmark
    public int decodeBurst() {
        // A fresh reference to the same bytes per read, as the transport hands over a new buffer per read.
        channel.pipeline().fireChannelRead(bytes.bytes().retainedDuplicate());
        channel.pipeline().fireChannelReadComplete();
        return sink.frames;
    }
}
