package dev.sluice.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.protocol.BackendMessages.Authentication;
import dev.sluice.protocol.BackendMessages.BackendKeyData;
import dev.sluice.protocol.BackendMessages.ParameterStatus;
import dev.sluice.protocol.BackendMessages.ReadyForQuery;
import dev.sluice.protocol.StartupPacket.StartupMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Golden bytes for every message Sluice encodes, and the framing rules of the decoder. */
class CodecTest {
    private static String hex(PgMessage m) {
        ByteBuf b = Unpooled.buffer();
        m.encode(b);
        String h = ByteBufUtil.hexDump(b);
        b.release();
        return h;
    }

    @Test
    void backendMessagesMatchTheProtocolDocumentation() {
        assertThat(hex(ReadyForQuery.IDLE_RFQ)).isEqualTo("5a0000000549");
        assertThat(hex(Authentication.ok())).isEqualTo("520000000800000000");
        assertThat(hex(Authentication.md5Password(new byte[] {1, 2, 3, 4}))).isEqualTo("520000000c0000000501020304");
        // AuthenticationSASL: 'R', len 23, code 10, "SCRAM-SHA-256\0", "\0"
        assertThat(hex(Authentication.sasl(List.of("SCRAM-SHA-256"))))
                .isEqualTo("52000000170000000a" + "534352414d2d5348412d32353600" + "00");
        assertThat(hex(new ParameterStatus("a", "b"))).isEqualTo("530000000861006200");
        assertThat(hex(new BackendKeyData(1, 2))).isEqualTo("4b0000000c0000000100000002");
    }

    @Test
    void errorResponseEncodesFieldsInOrderAndDecodesBack() {
        ErrorResponse e = ErrorResponse.error("53300", "x");
        assertThat(hex(e)).isEqualTo("45" + "0000001d" + "534552524f5200" + "564552524f5200" + "433533333030"
                + "00" + "4d7800" + "00");
        ByteBuf b = Unpooled.buffer();
        e.encode(b);
        ErrorResponse back = ErrorResponse.decodeFrame(b);
        assertThat(back.sqlState()).isEqualTo("53300");
        assertThat(back.message()).isEqualTo("x");
        assertThat(back.isFatal()).isFalse();
        assertThat(ErrorResponse.fatal("28P01", "no").isFatal()).isTrue();
    }

    @Test
    void startupMessageRoundTrips() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("user", "u");
        p.put("database", "d");
        ByteBuf b = Unpooled.buffer();
        new StartupMessage(MessageType.PROTOCOL_3_0, p).encode(b);
        assertThat(ByteBufUtil.hexDump(b)).isEqualTo("0000001b" + "00030000" + "75736572007500" + "6461746162617365006400" + "00");
        StartupPacket decoded = StartupPacket.decode(b);
        assertThat(decoded).isEqualTo(new StartupMessage(MessageType.PROTOCOL_3_0, p));
    }

    @Test
    void startupPacketDecodingRefusesBadInput() {
        ByteBuf v2 = Unpooled.buffer().writeInt(8).writeInt(2 << 16);
        assertThatThrownBy(() -> StartupPacket.decode(v2)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("unsupported frontend protocol 2.0");
        ByteBuf noValue = Unpooled.buffer().writeInt(13).writeInt(196608).writeBytes("user\0".getBytes());
        assertThatThrownBy(() -> StartupPacket.decode(noValue)).isInstanceOf(ProtocolException.class);
        ByteBuf unterminated = Unpooled.buffer().writeInt(12).writeInt(196608).writeBytes("abcd".getBytes());
        assertThatThrownBy(() -> StartupPacket.decode(unterminated)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("NUL");
        ByteBuf cancel = Unpooled.buffer().writeInt(16).writeInt(80877102).writeInt(7).writeInt(9);
        assertThat(StartupPacket.decode(cancel)).isEqualTo(new StartupPacket.CancelRequest(7, 9));
    }

    @Test
    void frameDecoderSplitsTypedFramesAcrossArbitraryChunks() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(false, 10000, 1 << 20));
        byte[] two = ByteBufUtil.decodeHexDump("5a0000000549" + "530000000861006200");
        for (byte x : two) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {x})); // one byte at a time
        }
        ByteBuf f1 = ch.readInbound();
        ByteBuf f2 = ch.readInbound();
        assertThat(ByteBufUtil.hexDump(f1)).isEqualTo("5a0000000549");
        assertThat(ByteBufUtil.hexDump(f2)).isEqualTo("530000000861006200");
        assertThat((Object) ch.readInbound()).isNull();
        f1.release();
        f2.release();
        ch.finishAndReleaseAll();
    }

    @Test
    void frameDecoderRefusesOversizedAndNegativeLengthsBeforeAllocating() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(false, 10000, 1000));
        assertThatThrownBy(() -> ch.writeInbound(Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump("517fffffff"))))
                .isInstanceOf(DecoderException.class)
                .hasCauseInstanceOf(ProtocolException.class)
                .hasMessageContaining("over the limit of 1000 bytes");
        EmbeddedChannel ch2 = new EmbeddedChannel(new FrameDecoder(false, 10000, 1000));
        assertThatThrownBy(() -> ch2.writeInbound(Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump("5100000002"))))
                .hasCauseInstanceOf(ProtocolException.class);
        EmbeddedChannel ch3 = new EmbeddedChannel(new FrameDecoder(true, 10000, 1000));
        assertThatThrownBy(() -> ch3.writeInbound(Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump("7fffffff00030000"))))
                .hasCauseInstanceOf(ProtocolException.class)
                .hasMessageContaining("invalid length of startup packet");
    }
}
