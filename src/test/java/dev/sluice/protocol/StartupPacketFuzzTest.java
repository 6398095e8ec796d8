package dev.sluice.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sluice.frontend.StartupParameters;
import dev.sluice.fuzz.Allocations;
import dev.sluice.protocol.StartupPacket.StartupMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.util.List;

/**
 * Fuzzes what a client sends before it is anyone: the untyped packets (StartupMessage, SSLRequest,
 * GSSENCRequest, CancelRequest) through the real {@link FrameDecoder} and {@link StartupPacket#decode}, and
 * the startup parameters through {@link StartupParameters#fromStartup}, in arbitrary TCP-sized pieces.
 * Properties: the only failure is a {@link ProtocolException} (which the session answers with an
 * ErrorResponse and a close); every frame is within 8..max_startup_packet_size; a StartupMessage that
 * decodes re-encodes to the same message; allocation follows the bytes received, not a length field.
 * Input: byte 0 chooses the piece size (0 = all at once), the rest is the client's byte stream.
 * Seeds and any crash reproducer: src/test/resources/dev/sluice/protocol/StartupPacketFuzzTestInputs.
 */
class StartupPacketFuzzTest {
    private static final int MAX_STARTUP = 10_000; // max_startup_packet_size's default

    @FuzzTest(maxDuration = "30s")
    void startupPackets(byte[] input) {
        Allocations.assertBounded(input.length, 64 << 20, "startup packet decoding", () -> parse(input));
    }

    private static void parse(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int piece = (input[0] & 0xff) == 0 ? Integer.MAX_VALUE : input[0] & 0xff;
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(true, MAX_STARTUP, 1 << 30));
        channel.config().setAllocator(Allocations.HEAP);
        try {
            for (int off = 1; off < input.length; ) {
                int n = Math.min(piece, input.length - off);
                boolean goesOn = feed(channel, Unpooled.wrappedBuffer(input, off, n));
                off += n;
                if (!goesOn) {
                    break;
                }
            }
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    /** Feeds one piece; false when the connection would now be closed or leave the startup phase. */
    private static boolean feed(EmbeddedChannel channel, ByteBuf piece) {
        try {
            channel.writeInbound(piece);
        } catch (DecoderException e) {
            assertThat(e.getCause()).isInstanceOf(ProtocolException.class);
            return false;
        }
        ByteBuf frame;
        while ((frame = channel.readInbound()) != null) {
            try {
                if (!onPacket(frame)) {
                    return false;
                }
            } finally {
                frame.release();
            }
        }
        return true;
    }

    private static boolean onPacket(ByteBuf frame) {
        int declared = frame.getInt(frame.readerIndex());
        assertThat(frame.readableBytes()).isEqualTo(declared).isBetween(8, MAX_STARTUP);
        StartupPacket packet;
        try {
            packet = StartupPacket.decode(frame);
        } catch (ProtocolException e) {
            assertThat(e.sqlState()).matches("[0-9A-Z]{5}");
            return false;
        }
        if (packet instanceof StartupPacket.SslRequest || packet instanceof StartupPacket.GssEncRequest) {
            return true; // refused with 'N': the client sends a new untyped packet
        }
        if (packet instanceof StartupMessage m) {
            ByteBuf again = Unpooled.buffer();
            try {
                m.encode(again);
                StartupMessage back = (StartupMessage) StartupPacket.decode(again);
                assertThat(back.protocolVersion()).isEqualTo(m.protocolVersion());
                assertThat(back.parameters()).containsExactlyEntriesOf(m.parameters());
            } finally {
                again.release();
            }
            try {
                StartupParameters.fromStartup(m.parameters(), List.of());
            } catch (ProtocolException e) {
                assertThat(e.sqlState()).matches("[0-9A-Z]{5}");
            }
        }
        return false; // a StartupMessage is followed by typed frames (ClientMessageFuzzTest); a CancelRequest closes
    }
}
