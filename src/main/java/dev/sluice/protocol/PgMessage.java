package dev.sluice.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** A protocol message Sluice builds itself (as opposed to frames it forwards untouched). */
public interface PgMessage {
    /** Appends the complete wire form (type byte, length, body) to {@code out}. */
    void encode(ByteBuf out);

    /** Encodes several messages into one buffer, so they go out in one write. */
    static ByteBuf encodeAll(ByteBufAllocator alloc, PgMessage... messages) {
        ByteBuf buf = alloc.buffer();
        for (PgMessage m : messages) {
            m.encode(buf);
        }
        return buf;
    }
}
