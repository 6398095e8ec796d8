package dev.sluice.protocol;

import io.netty.buffer.ByteBuf;

/** The frontend messages Sluice sends to PostgreSQL itself: passwords, SASL responses, internal queries, Terminate. */
public final class FrontendMessages {
    private FrontendMessages() {}

    /** Query ('Q'): one simple-protocol query string. */
    public record Query(String sql) implements PgMessage {
        @Override
        public void encode(ByteBuf out) {
            int len = Wire.beginMessage(out, MessageType.QUERY);
            Wire.writeCString(out, sql);
            Wire.endMessage(out, len);
        }

        /** The SQL text of a whole 'Q' frame, without moving its reader index. */
        public static String sqlOf(ByteBuf frame) {
            ByteBuf b = frame.duplicate();
            b.skipBytes(5);
            return Wire.readCString(b);
        }
    }

    /** PasswordMessage ('p') carrying a cleartext or md5 password. */
    public record PasswordMessage(String password) implements PgMessage {
        @Override
        public void encode(ByteBuf out) {
            int len = Wire.beginMessage(out, MessageType.PASSWORD_MESSAGE);
            Wire.writeCString(out, password);
            Wire.endMessage(out, len);
        }
    }

    /** SASLInitialResponse ('p'): mechanism, then the length-prefixed client-first message. */
    public record SaslInitialResponse(String mechanism, byte[] data) implements PgMessage {
        @Override
        public void encode(ByteBuf out) {
            int len = Wire.beginMessage(out, MessageType.PASSWORD_MESSAGE);
            Wire.writeCString(out, mechanism);
            out.writeInt(data.length);
            out.writeBytes(data);
            Wire.endMessage(out, len);
        }
    }

    /** SASLResponse ('p'): raw mechanism data. */
    public record SaslResponse(byte[] data) implements PgMessage {
        @Override
        public void encode(ByteBuf out) {
            int len = Wire.beginMessage(out, MessageType.PASSWORD_MESSAGE);
            out.writeBytes(data);
            Wire.endMessage(out, len);
        }
    }

    public record Terminate() implements PgMessage {
        @Override
        public void encode(ByteBuf out) {
            out.writeByte(MessageType.TERMINATE);
            out.writeInt(4);
        }
    }
}
