package dev.sluice.auth;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;

// Role: test-only minimal PostgreSQL wire client, just enough to run a login against a real server.
final class PgWire implements Closeable {

    record Message(char type, byte[] body) {
        int authCode() {
            return ByteBuffer.wrap(body).getInt();
        }

        /** Body after the Authentication message's int32 code. */
        byte[] authData() {
            byte[] data = new byte[body.length - 4];
            System.arraycopy(body, 4, data, 0, data.length);
            return data;
        }

        /** A field of an ErrorResponse, e.g. 'C' for the SQLSTATE. */
        String errorField(char code) {
            int i = 0;
            while (i < body.length && body[i] != 0) {
                char field = (char) body[i];
                int end = i + 1;
                while (body[end] != 0) {
                    end++;
                }
                if (field == code) {
                    return new String(body, i + 1, end - i - 1, UTF_8);
                }
                i = end + 1;
            }
            return null;
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;

    PgWire(int port, String user) throws IOException {
        socket = new Socket("localhost", port);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
        ByteArrayOutputStream params = new ByteArrayOutputStream();
        for (String s : new String[] {"user", user, "database", "postgres"}) {
            params.writeBytes(s.getBytes(UTF_8));
            params.write(0);
        }
        params.write(0);
        out.writeInt(8 + params.size());
        out.writeInt(196608); // protocol 3.0
        out.write(params.toByteArray());
        out.flush();
    }

    Message read() throws IOException {
        char type = (char) in.readUnsignedByte();
        byte[] body = new byte[in.readInt() - 4];
        in.readFully(body);
        return new Message(type, body);
    }

    void sendSaslInitialResponse(String mechanism, byte[] data) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(mechanism.getBytes(UTF_8));
        body.write(0);
        body.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        body.writeBytes(data);
        send('p', body.toByteArray());
    }

    void sendSaslResponse(byte[] data) throws IOException {
        send('p', data);
    }

    void sendPassword(String password) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(password.getBytes(UTF_8));
        body.write(0);
        send('p', body.toByteArray());
    }

    private void send(char type, byte[] body) throws IOException {
        out.writeByte(type);
        out.writeInt(4 + body.length);
        out.write(body);
        out.flush();
    }

    @Override
    public void close() throws IOException {
        try {
            send('X', new byte[0]);
        } catch (IOException ignored) {
            // the server may already have closed after an error
        }
        socket.close();
    }
}
