package dev.sluice.protocol;

import io.netty.buffer.ByteBuf;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ErrorResponse ('E') or NoticeResponse ('N'): a list of (field code, value) pairs. Sluice builds its own
 * refusals with a real SQLSTATE, and decodes the server's to log them and to relay login failures.
 */
public record ErrorResponse(byte type, Map<Character, String> fields) implements PgMessage {
    public static final char SEVERITY = 'S';
    public static final char SEVERITY_NONLOCALIZED = 'V';
    public static final char CODE = 'C';
    public static final char MESSAGE = 'M';
    public static final char DETAIL = 'D';
    public static final char HINT = 'H';

    public ErrorResponse {
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    public static ErrorResponse error(String severity, String sqlState, String message, String detail, String hint) {
        Map<Character, String> f = new LinkedHashMap<>();
        f.put(SEVERITY, severity);
        f.put(SEVERITY_NONLOCALIZED, severity);
        f.put(CODE, sqlState);
        f.put(MESSAGE, message);
        if (detail != null) {
            f.put(DETAIL, detail);
        }
        if (hint != null) {
            f.put(HINT, hint);
        }
        return new ErrorResponse(MessageType.ERROR_RESPONSE, f);
    }

    /** An ERROR: the statement failed, the connection stays usable. */
    public static ErrorResponse error(String sqlState, String message) {
        return error("ERROR", sqlState, message, null, null);
    }

    /** A FATAL: Sluice closes the connection right after sending it. */
    public static ErrorResponse fatal(String sqlState, String message) {
        return error("FATAL", sqlState, message, null, null);
    }

    public static ErrorResponse fatal(String sqlState, String message, String hint) {
        return error("FATAL", sqlState, message, null, hint);
    }

    public static ErrorResponse notice(String message) {
        Map<Character, String> f = new LinkedHashMap<>();
        f.put(SEVERITY, "NOTICE");
        f.put(SEVERITY_NONLOCALIZED, "NOTICE");
        f.put(CODE, "00000");
        f.put(MESSAGE, message);
        return new ErrorResponse(MessageType.NOTICE_RESPONSE, f);
    }

    /** Decodes the body of an 'E'/'N' frame positioned after the type byte and length. */
    public static ErrorResponse decodeBody(byte type, ByteBuf body) {
        Map<Character, String> f = new LinkedHashMap<>();
        while (body.isReadable()) {
            byte code = body.readByte();
            if (code == 0) {
                break;
            }
            f.put((char) code, Wire.readCString(body));
        }
        return new ErrorResponse(type, f);
    }

    /** Decodes a whole frame (type byte, length, body) without moving the frame's reader index. */
    public static ErrorResponse decodeFrame(ByteBuf frame) {
        ByteBuf body = frame.duplicate();
        byte type = body.readByte();
        body.skipBytes(4);
        return decodeBody(type, body);
    }

    public String sqlState() {
        return fields.getOrDefault(CODE, "");
    }

    public String message() {
        return fields.getOrDefault(MESSAGE, "");
    }

    public String severity() {
        return fields.getOrDefault(SEVERITY_NONLOCALIZED, fields.getOrDefault(SEVERITY, ""));
    }

    public boolean isFatal() {
        String s = severity();
        return s.equals("FATAL") || s.equals("PANIC");
    }

    @Override
    public void encode(ByteBuf out) {
        int len = Wire.beginMessage(out, type);
        for (Map.Entry<Character, String> e : fields.entrySet()) {
            out.writeByte(e.getKey());
            Wire.writeCString(out, e.getValue());
        }
        out.writeByte(0);
        Wire.endMessage(out, len);
    }

    @Override
    public String toString() {
        return severity() + " " + sqlState() + " " + message();
    }
}
