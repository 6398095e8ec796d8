package dev.sluice.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sluice.auth.Md5Auth;
import dev.sluice.auth.StoredSecret;
import dev.sluice.config.AuthType;
import dev.sluice.fuzz.Allocations;
import dev.sluice.protocol.ClientFrames;
import dev.sluice.protocol.FrameDecoder;
import dev.sluice.protocol.FrontendMessages;
import dev.sluice.protocol.MessageType;
import dev.sluice.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.util.Set;

/**
 * Fuzzes every typed client message Sluice decodes, through the real {@link FrameDecoder} (typed mode, a small
 * max_client_message_size so the oversized path is hit) in arbitrary pieces: PasswordMessage /
 * SASLInitialResponse / SASLResponse through the real {@link ClientAuthenticator} (plain, md5 or SCRAM, as
 * chosen by the input), then Query, Parse, Bind, Describe and Close read the way ClientSession reads them
 * (statement names through {@link ClientFrames}, SET tracking through {@link LocalStatements}, session-state
 * markers through {@link SessionState}).
 * Properties: the only exception is a {@link ProtocolException}; a failed login is answered with 28P01,
 * 28000 or 08P01 and nothing else; allocation follows the bytes received, not a length field.
 * Input: byte 0 = auth method (low 2 bits) and piece size (the rest, 0 = all at once); then the byte stream.
 * Seeds and any crash reproducer: src/test/resources/dev/sluice/frontend/ClientMessageFuzzTestInputs.
 */
class ClientMessageFuzzTest {
    private static final int MAX_MESSAGE = 1 << 16;
    private static final Set<String> LOGIN_FAILURES = Set.of("28P01", "28000", "08P01");
    private static final String PASSWORD = "a-secret";
    private static final String SCRAM_SECRET = StoredSecret.Scram.fromPassword(PASSWORD,
            new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 4096).encode();

    @FuzzTest(maxDuration = "30s")
    void clientMessages(byte[] input) {
        Allocations.assertBounded(input.length, 64 << 20, "client message decoding", () -> parse(input));
    }

    private static void parse(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int method = input[0] & 3;
        int piece = (input[0] & 0xff) >>> 2 == 0 ? Integer.MAX_VALUE : (input[0] & 0xff) >>> 2;
        Session session = new Session(method);
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(false, 10_000, MAX_MESSAGE));
        channel.config().setAllocator(Allocations.HEAP);
        try {
            for (int off = 1; off < input.length; ) {
                int n = Math.min(piece, input.length - off);
                boolean goesOn = feed(channel, Unpooled.wrappedBuffer(input, off, n), session);
                off += n;
                if (!goesOn) {
                    break;
                }
            }
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    private static boolean feed(EmbeddedChannel channel, ByteBuf piece, Session session) {
        try {
            channel.writeInbound(piece);
        } catch (DecoderException e) {
            assertThat(e.getCause()).isInstanceOf(ProtocolException.class);
            return false;
        }
        ByteBuf frame;
        while ((frame = channel.readInbound()) != null) {
            try {
                assertThat(frame.readableBytes()).isEqualTo(frame.getInt(frame.readerIndex() + 1) + 1)
                        .isLessThanOrEqualTo(MAX_MESSAGE + 1);
                if (!session.onFrame(frame)) {
                    return false;
                }
            } catch (ProtocolException e) {
                assertThat(e.sqlState()).matches("[0-9A-Z]{5}");
                return false; // ClientSession answers with an ErrorResponse and closes
            } finally {
                frame.release();
            }
        }
        return true;
    }

    /** One connection: authentication first, then the messages of a logged-in client. */
    private static final class Session {
        private ClientAuthenticator auth;
        private boolean loggedIn;

        Session(int method) {
            AuthType type = switch (method) {
                case 0 -> AuthType.PLAIN;
                case 1 -> AuthType.MD5;
                case 2 -> AuthType.SCRAM_SHA_256;
                default -> AuthType.TRUST;
            };
            String secret = method == 1 ? Md5Auth.hashPassword("alice", PASSWORD)
                    : method == 2 ? SCRAM_SECRET : PASSWORD;
            ClientAuthenticator[] holder = new ClientAuthenticator[1];
            ClientAuthenticator.Step first = ClientAuthenticator.start(type, "alice", secret, holder);
            auth = holder[0];
            loggedIn = first instanceof ClientAuthenticator.Step.Success;
            assertThat(first).isNotInstanceOf(ClientAuthenticator.Step.Failure.class);
        }

        /** False when the connection would be closed after this frame. */
        boolean onFrame(ByteBuf frame) {
            if (!loggedIn) {
                ClientAuthenticator.Step step = auth.onMessage(frame);
                if (step instanceof ClientAuthenticator.Step.Failure f) {
                    assertThat(f.error().sqlState()).isIn(LOGIN_FAILURES);
                    assertThat(f.error().isFatal()).isTrue();
                    return false;
                }
                loggedIn = step instanceof ClientAuthenticator.Step.Success;
                return true;
            }
            int body = frame.readerIndex() + 5;
            switch (frame.getByte(frame.readerIndex())) {
                case MessageType.QUERY -> {
                    String sql = FrontendMessages.Query.sqlOf(frame);
                    LocalStatements.applicationNameSet(sql);
                    LocalStatements.sessionSetting(sql);
                    SessionState.textMayChangeSession(frame);
                }
                case MessageType.PARSE -> {
                    int nameEnd = ClientFrames.cstringEnd(frame, body);
                    assertThat(nameEnd).isLessThan(frame.writerIndex());
                    ClientFrames.cstringEnd(frame, nameEnd + 1); // the statement text
                    SessionState.textMayChangeSession(frame);
                }
                case MessageType.BIND -> {
                    int portalEnd = ClientFrames.cstringEnd(frame, body);
                    ClientFrames.cstringEnd(frame, portalEnd + 1);
                }
                case MessageType.DESCRIBE, MessageType.CLOSE -> {
                    ClientFrames.targetKind(frame);
                    ClientFrames.cstringEnd(frame, body + 1);
                }
                case MessageType.TERMINATE -> {
                    return false;
                }
                default -> {
                    // Execute, Sync, Flush, CopyData, ...: forwarded as they are, nothing read from them
                }
            }
            return true;
        }
    }
}
