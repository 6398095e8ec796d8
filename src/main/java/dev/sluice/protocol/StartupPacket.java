package dev.sluice.protocol;

import io.netty.buffer.ByteBuf;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The untyped first packet of a connection: StartupMessage, SSLRequest, GSSENCRequest or CancelRequest. */
public sealed interface StartupPacket {

    /** StartupMessage: protocol version and the name/value parameters (user, database, options, GUCs). */
    record StartupMessage(int protocolVersion, Map<String, String> parameters) implements StartupPacket, PgMessage {
        public StartupMessage {
            parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        }

        public int majorVersion() {
            return protocolVersion >>> 16;
        }

        public int minorVersion() {
            return protocolVersion & 0xffff;
        }

        @Override
        public void encode(ByteBuf out) {
            int start = out.writerIndex();
            out.writeInt(0);
            out.writeInt(protocolVersion);
            for (Map.Entry<String, String> e : parameters.entrySet()) {
                Wire.writeCString(out, e.getKey());
                Wire.writeCString(out, e.getValue());
            }
            out.writeByte(0);
            out.setInt(start, out.writerIndex() - start);
        }
    }

    record SslRequest() implements StartupPacket {}

    record GssEncRequest() implements StartupPacket {}

    /** CancelRequest: the backend key the client got in BackendKeyData at login. */
    record CancelRequest(int processId, int secretKey) implements StartupPacket, PgMessage {
        @Override
        public void encode(ByteBuf out) {
            out.writeInt(16);
            out.writeInt(MessageType.CANCEL_REQUEST_CODE);
            out.writeInt(processId);
            out.writeInt(secretKey);
        }
    }

    /**
     * Decodes a whole untyped packet (including its int32 length) already framed by {@link FrameDecoder}.
     * Unknown codes and malformed bodies become {@link ProtocolException}s with the reason a client can act on.
     */
    static StartupPacket decode(ByteBuf packet) {
        int length = packet.readInt();
        if (length < 8) {
            throw new ProtocolException("invalid length of startup packet: " + length);
        }
        int code = packet.readInt();
        switch (code) {
            case MessageType.SSL_REQUEST_CODE:
                return new SslRequest();
            case MessageType.GSSENC_REQUEST_CODE:
                return new GssEncRequest();
            case MessageType.CANCEL_REQUEST_CODE:
                if (length != 16) {
                    throw new ProtocolException("invalid length of CancelRequest: " + length);
                }
                return new CancelRequest(packet.readInt(), packet.readInt());
            default:
                break;
        }
        if ((code >>> 16) != 3) {
            throw new ProtocolException(SqlState.FEATURE_NOT_SUPPORTED,
                    "unsupported frontend protocol " + (code >>> 16) + "." + (code & 0xffff)
                            + ": Sluice speaks protocol 3.0");
        }
        Map<String, String> params = new LinkedHashMap<>();
        while (packet.isReadable()) {
            String name = Wire.readCString(packet);
            if (name.isEmpty()) {
                break; // the terminating NUL of the parameter list
            }
            if (!packet.isReadable()) {
                throw new ProtocolException("invalid startup packet layout: parameter \"" + name + "\" has no value");
            }
            String value = Wire.readCString(packet);
            params.put(name, value);
        }
        return new StartupMessage(code, params);
    }
}
