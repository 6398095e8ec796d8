package dev.sluice.it;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** A bare-bytes PostgreSQL client for edge cases no driver will produce. */
final class RawClient implements AutoCloseable {
    record Msg(char type, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** Fields of an ErrorResponse/NoticeResponse. */
        Map<Character, String> fields() {
            Map<Character, String> f = new LinkedHashMap<>();
            int i = 0;
            while (i < body.length && body[i] != 0) {
                char code = (char) body[i++];
                int end = i;
                while (body[end] != 0) {
                    end++;
                }
                f.put(code, new String(body, i, end - i, StandardCharsets.UTF_8));
                i = end + 1;
            }
            return f;
        }
    }

    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;

    RawClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(15_000);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
    }

    static byte[] cstr(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] r = new byte[b.length + 1];
        System.arraycopy(b, 0, r, 0, b.length);
        return r;
    }

    void startup(int version, String... kv) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (String s : kv) {
            body.write(cstr(s));
        }
        body.write(0);
        out.writeInt(8 + body.size());
        out.writeInt(version);
        out.write(body.toByteArray());
        out.flush();
    }

    void untyped(int code) throws IOException {
        out.writeInt(8);
        out.writeInt(code);
        out.flush();
    }

    /** Appends a typed message (not flushed). */
    RawClient msg(char type, byte[]... parts) throws IOException {
        int len = 4;
        for (byte[] p : parts) {
            len += p.length;
        }
        out.writeByte(type);
        out.writeInt(len);
        for (byte[] p : parts) {
            out.write(p);
        }
        return this;
    }

    RawClient query(String sql) throws IOException {
        return msg('Q', cstr(sql));
    }

    /** Parse (unnamed) + Bind (no params, text) + Execute + Sync. */
    RawClient extended(String sql) throws IOException {
        msg('P', cstr(""), cstr(sql), new byte[] {0, 0});
        msg('B', cstr(""), cstr(""), new byte[] {0, 0, 0, 0, 0, 0});
        msg('E', cstr(""), new byte[] {0, 0, 0, 0});
        return msg('S');
    }

    void flush() throws IOException {
        out.flush();
    }

    Msg read() throws IOException {
        char type = (char) in.readUnsignedByte();
        int len = in.readInt();
        byte[] body = new byte[len - 4];
        in.readFully(body);
        return new Msg(type, body);
    }

    /** Reads messages until ReadyForQuery; returns the types seen, e.g. "TDCZ". */
    String readUntilReady(StringBuilder errors) throws IOException {
        StringBuilder types = new StringBuilder();
        while (true) {
            Msg m = read();
            types.append(m.type());
            if (m.type() == 'E' && errors != null) {
                errors.append(m.fields().get('C')).append(' ').append(m.fields().get('M')).append('\n');
            }
            if (m.type() == 'Z') {
                return types.toString();
            }
        }
    }

    /** Logs in with trust auth and reads up to the first ReadyForQuery. */
    void login(String user, String db) throws IOException {
        startup(196608, "user", user, "database", db);
        String types = readUntilReady(null);
        if (!types.startsWith("R") || !types.endsWith("Z")) {
            throw new IOException("login failed: " + types);
        }
    }

    /** Logs in with md5 auth (answers AuthenticationMD5Password) and reads up to the first ReadyForQuery. */
    void loginMd5(String user, String password, String db) throws IOException {
        startup(196608, "user", user, "database", db);
        Msg m = read();
        if (m.type() != 'R' || m.body().length != 8 || java.nio.ByteBuffer.wrap(m.body()).getInt() != 5) {
            throw new IOException("expected AuthenticationMD5Password, got '" + m.type() + "' " + m.fields());
        }
        byte[] salt = java.util.Arrays.copyOfRange(m.body(), 4, 8);
        msg('p', cstr(dev.sluice.auth.Md5Auth.clientResponse(user, dev.sluice.auth.StoredSecret.parse(password),
                salt))).flush();
        String types = readUntilReady(null);
        if (!types.startsWith("R") || !types.endsWith("Z")) {
            throw new IOException("login failed: " + types);
        }
    }

    /** True when the server closed the connection (EOF) within the socket timeout. */
    boolean closedByPeer() throws IOException {
        try {
            while (true) {
                read();
            }
        } catch (EOFException | java.net.SocketException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
