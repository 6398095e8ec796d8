package dev.sluice.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/** Low-level reading and writing of protocol primitives (NUL-terminated strings, length back-patching). */
public final class Wire {
    private Wire() {}

    /** Reads a NUL-terminated UTF-8 string; a missing terminator is a protocol violation, not an exception deep in Netty. */
    public static String readCString(ByteBuf buf) {
        int end = buf.indexOf(buf.readerIndex(), buf.writerIndex(), (byte) 0);
        if (end < 0) {
            throw new ProtocolException("string field is not NUL-terminated");
        }
        String s = buf.toString(buf.readerIndex(), end - buf.readerIndex(), StandardCharsets.UTF_8);
        buf.readerIndex(end + 1);
        return s;
    }

    public static void writeCString(ByteBuf buf, String s) {
        buf.writeCharSequence(s, StandardCharsets.UTF_8);
        buf.writeByte(0);
    }

    /** Starts a typed message: writes the type and a length placeholder; returns the length's index for {@link #endMessage}. */
    public static int beginMessage(ByteBuf buf, byte type) {
        buf.writeByte(type);
        int lengthIndex = buf.writerIndex();
        buf.writeInt(0);
        return lengthIndex;
    }

    /** Patches the length of a message started with {@link #beginMessage} (the length counts itself, not the type). */
    public static void endMessage(ByteBuf buf, int lengthIndex) {
        buf.setInt(lengthIndex, buf.writerIndex() - lengthIndex);
    }
}
