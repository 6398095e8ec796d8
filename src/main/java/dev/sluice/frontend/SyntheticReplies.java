package dev.sluice.frontend;

import dev.sluice.protocol.MessageType;
import dev.sluice.protocol.PgMessage;
import io.netty.buffer.ByteBuf;

/** Replies Sluice sends in the server's place when it answers a Parse or Close from its statement cache. */
final class SyntheticReplies {
    private SyntheticReplies() {}

    record Empty(byte type) implements PgMessage {
        @Override
        public void encode(ByteBuf out) {
            out.writeByte(type);
            out.writeInt(4);
        }
    }

    static final PgMessage PARSE_COMPLETE = new Empty(MessageType.PARSE_COMPLETE);
    static final PgMessage CLOSE_COMPLETE = new Empty(MessageType.CLOSE_COMPLETE);
}
