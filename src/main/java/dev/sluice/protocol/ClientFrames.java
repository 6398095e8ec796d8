package dev.sluice.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Reads the few fields Sluice needs from whole client frames (type byte and length included): the statement
 * and portal names of Parse, Bind, Describe and Close. Every read is checked against the frame's end, so a
 * frame too short for its fields is a {@link ProtocolException} (08P01) the client is told about, never an
 * IndexOutOfBoundsException deep in the proxy.
 */
public final class ClientFrames {
    private ClientFrames() {}

    /** Index of the NUL ending the string that starts at {@code from}; a missing NUL is a protocol violation. */
    public static int cstringEnd(ByteBuf frame, int from) {
        int end = from < frame.writerIndex() ? frame.indexOf(from, frame.writerIndex(), (byte) 0) : -1;
        if (end < 0) {
            throw new ProtocolException("string field is not NUL-terminated in "
                    + MessageType.frontendName(frame.getByte(frame.readerIndex())) + " message");
        }
        return end;
    }

    /** Describe/Close: what is described or closed, 'S' (prepared statement) or 'P' (portal). */
    public static byte targetKind(ByteBuf frame) {
        int at = frame.readerIndex() + 5;
        if (at >= frame.writerIndex()) {
            throw new ProtocolException("invalid " + MessageType.frontendName(frame.getByte(frame.readerIndex()))
                    + " message: it is empty, expected 'S' or 'P' and a name");
        }
        return frame.getByte(at);
    }
}
