package dev.sluice.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a byte stream into whole protocol frames, emitted as retained slices of the input (no copy).
 * In startup mode frames are untyped (int32 length first); afterwards typed (type byte, int32 length).
 * A length above the limit is refused before anything is allocated for it: a hostile or broken peer
 * cannot make Sluice reserve a gigabyte by sending five bytes.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    private boolean startupMode;
    private final int maxStartupLength;
    private volatile long maxLength;

    public FrameDecoder(boolean startupMode, int maxStartupLength, long maxLength) {
        this.startupMode = startupMode;
        this.maxStartupLength = maxStartupLength;
        this.maxLength = maxLength;
    }

    /** Called after the startup packet was handled; further frames are typed. */
    public void typedFramesFollow() {
        startupMode = false;
    }

    /** Back to untyped framing: after an SSLRequest/GSSENCRequest was refused the client sends a new startup packet. */
    public void untypedFramesFollow() {
        startupMode = true;
    }

    /** Bytes received but not yet framed (what a client sent after its last whole packet). */
    public int bufferedBytes() {
        return actualReadableBytes();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            if (startupMode) {
                if (in.readableBytes() < 4) {
                    return;
                }
                int length = in.getInt(in.readerIndex());
                if (length < 8 || length > maxStartupLength) {
                    in.skipBytes(in.readableBytes());
                    throw new ProtocolException("invalid length of startup packet: " + length
                            + " (allowed 8.." + maxStartupLength + ")");
                }
                if (in.readableBytes() < length) {
                    return;
                }
                out.add(in.readRetainedSlice(length));
                // Only one untyped packet at a time: the handler decides whether the next is typed.
                return;
            }
            if (in.readableBytes() < 5) {
                return;
            }
            int length = in.getInt(in.readerIndex() + 1);
            if (length < 4) {
                in.skipBytes(in.readableBytes());
                throw new ProtocolException("invalid message length " + length);
            }
            if (length > maxLength) {
                byte type = in.getByte(in.readerIndex());
                in.skipBytes(in.readableBytes());
                throw new ProtocolException(SqlState.PROGRAM_LIMIT_EXCEEDED,
                        "message of type '" + (char) type + "' is " + length + " bytes, over the limit of "
                                + maxLength + " bytes");
            }
            if (in.readableBytes() < length + 1) {
                return;
            }
            out.add(in.readRetainedSlice(length + 1));
        }
    }
}
