package dev.sluice.protocol;

import io.netty.buffer.ByteBuf;
import java.util.List;

/** The backend messages Sluice sends to clients itself: login handshake, ParameterStatus, ReadyForQuery. */
public final class BackendMessages {
    private BackendMessages() {}

    /** Authentication ('R') request or outcome: the code, then a code-specific payload. */
    public record Authentication(int code, byte[] payload) implements PgMessage {
        public static Authentication ok() {
            return new Authentication(MessageType.AUTH_OK, new byte[0]);
        }

        public static Authentication cleartextPassword() {
            return new Authentication(MessageType.AUTH_CLEARTEXT_PASSWORD, new byte[0]);
        }

        public static Authentication md5Password(byte[] salt) {
            return new Authentication(MessageType.AUTH_MD5_PASSWORD, salt.clone());
        }

        /** AuthenticationSASL: the NUL-terminated mechanism names, then a final NUL. */
        public static Authentication sasl(List<String> mechanisms) {
            ByteBuf b = io.netty.buffer.Unpooled.buffer();
            for (String m : mechanisms) {
                Wire.writeCString(b, m);
            }
            b.writeByte(0);
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            b.release();
            return new Authentication(MessageType.AUTH_SASL, bytes);
        }

        public static Authentication saslContinue(byte[] data) {
            return new Authentication(MessageType.AUTH_SASL_CONTINUE, data.clone());
        }

        public static Authentication saslFinal(byte[] data) {
            return new Authentication(MessageType.AUTH_SASL_FINAL, data.clone());
        }

        @Override
        public void encode(ByteBuf out) {
            int len = Wire.beginMessage(out, MessageType.AUTHENTICATION);
            out.writeInt(code);
            out.writeBytes(payload);
            Wire.endMessage(out, len);
        }
    }

    public record ParameterStatus(String name, String value) implements PgMessage {
        @Override
        public void encode(ByteBuf out) {
            int len = Wire.beginMessage(out, MessageType.PARAMETER_STATUS);
            Wire.writeCString(out, name);
            Wire.writeCString(out, value);
            Wire.endMessage(out, len);
        }

        /** Decodes a whole 'S' frame without moving its reader index. */
        public static ParameterStatus decodeFrame(ByteBuf frame) {
            ByteBuf b = frame.duplicate();
            b.skipBytes(5);
            return new ParameterStatus(Wire.readCString(b), Wire.readCString(b));
        }
    }

    /** CommandComplete ('C'): the command tag, e.g. "SET". */
    public record CommandComplete(String tag) implements PgMessage {
        @Override
        public void encode(ByteBuf out) {
            int len = Wire.beginMessage(out, MessageType.COMMAND_COMPLETE);
            Wire.writeCString(out, tag);
            Wire.endMessage(out, len);
        }
    }

    public record BackendKeyData(int processId, int secretKey) implements PgMessage {
        @Override
        public void encode(ByteBuf out) {
            int len = Wire.beginMessage(out, MessageType.BACKEND_KEY_DATA);
            out.writeInt(processId);
            out.writeInt(secretKey);
            Wire.endMessage(out, len);
        }

        public static BackendKeyData decodeFrame(ByteBuf frame) {
            return new BackendKeyData(frame.getInt(frame.readerIndex() + 5), frame.getInt(frame.readerIndex() + 9));
        }
    }

    /** ReadyForQuery: 'I' idle, 'T' in a transaction block, 'E' in a failed transaction block. */
    public record ReadyForQuery(byte status) implements PgMessage {
        public static final byte IDLE = 'I';
        public static final byte IN_TRANSACTION = 'T';
        public static final byte FAILED_TRANSACTION = 'E';
        public static final ReadyForQuery IDLE_RFQ = new ReadyForQuery(IDLE);

        @Override
        public void encode(ByteBuf out) {
            out.writeByte(MessageType.READY_FOR_QUERY);
            out.writeInt(5);
            out.writeByte(status);
        }

        /** The status byte of a whole 'Z' frame. */
        public static byte statusOf(ByteBuf frame) {
            return frame.getByte(frame.readerIndex() + 5);
        }
    }
}
