package dev.sluice.frontend;

import dev.sluice.backend.ServerConnection;
import dev.sluice.protocol.MessageType;
import dev.sluice.protocol.PgMessage;
import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;

/**
 * The replies a client is owed, in order, for the extended-protocol messages Sluice forwarded, skipped or
 * injected on its behalf. Prepared statements in transaction mode need it: a Parse the server already
 * has is answered by Sluice (synthetic ParseComplete), a Parse Sluice injects before a Bind is answered
 * by the server but must not reach the client. When the server reports an error, it skips everything up
 * to Sync; the tracker skips the same entries and corrects what it believed the server had prepared.
 */
final class ResponseTracker {
    enum Kind {
        /** A Parse forwarded for the client: its ParseComplete goes to the client. */
        PARSE,
        /** A Parse Sluice injected: its ParseComplete is swallowed. */
        PARSE_SWALLOW,
        /** A Parse Sluice answers itself: ParseComplete is synthesised at this position. */
        PARSE_SYNTH,
        BIND,
        DESCRIBE,
        EXECUTE,
        CLOSE,
        /** A Close Sluice injected to evict a statement from a server's cache. */
        CLOSE_SWALLOW,
        /** A Close of a client statement, answered by Sluice (the server keeps its shared statement). */
        CLOSE_SYNTH,
        SYNC,
        /** A simple Query or FunctionCall: replies until ReadyForQuery. */
        QUERY
    }

    record Expect(Kind kind, String serverStatement) {}


    private static final Expect[] PLAIN = new Expect[Kind.values().length];

    static {
        for (Kind k : Kind.values()) {
            PLAIN[k.ordinal()] = new Expect(k, null);
        }
    }

    private final ArrayDeque<Expect> queue = new ArrayDeque<>(4); // grows with a pipeline; small while idle
    /** Set when the server confirmed DISCARD ALL / DEALLOCATE ALL; the session clears its names. */
    private boolean discarded;

    /** True once after the server confirmed that all prepared statements were dropped. */
    boolean takeDiscarded() {
        boolean d = discarded;
        discarded = false;
        return d;
    }

    private static final byte[] DEALLOCATE_ALL = "DEALLOCATE ALL".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] DISCARD_ALL = "DISCARD ALL".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** The CommandComplete tags of the statements that drop every prepared statement of a session. */
    private static boolean dropsAllStatements(ByteBuf frame) {
        int tagLength = frame.readableBytes() - 6; // type, length, NUL
        byte[] tag = tagLength == DEALLOCATE_ALL.length ? DEALLOCATE_ALL : tagLength == DISCARD_ALL.length ? DISCARD_ALL : null;
        if (tag == null) {
            return false;
        }
        for (int i = 0; i < tag.length; i++) {
            if (frame.getByte(frame.readerIndex() + 5 + i) != tag[i]) {
                return false;
            }
        }
        return true;
    }

    void expect(Kind kind) {
        queue.addLast(PLAIN[kind.ordinal()]);
    }

    void expect(Kind kind, String serverStatement) {
        queue.addLast(new Expect(kind, serverStatement));
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    @Override
    public String toString() {
        return queue.toString();
    }

    void clear() {
        queue.clear();
    }

    /** If the next reply owed is one Sluice answers itself, removes it and returns the message to send. */
    PgMessage nextSynthetic() {
        Expect head = queue.peekFirst();
        if (head == null) {
            return null;
        }
        if (head.kind() == Kind.PARSE_SYNTH) {
            queue.pollFirst();
            return SyntheticReplies.PARSE_COMPLETE;
        }
        if (head.kind() == Kind.CLOSE_SYNTH) {
            queue.pollFirst();
            return SyntheticReplies.CLOSE_COMPLETE;
        }
        return null;
    }

    /**
     * Accounts for one server frame; returns false when the frame answers something Sluice injected and
     * must not be forwarded. Call {@link #nextSynthetic()} until null before and after each frame.
     */
    boolean onServerFrame(ByteBuf frame, ServerConnection server) {
        byte type = frame.getByte(frame.readerIndex());
        Expect head = queue.peekFirst();
        Kind kind = head == null ? null : head.kind();
        switch (type) {
            case MessageType.PARSE_COMPLETE -> {
                if (kind == Kind.PARSE_SWALLOW) {
                    queue.pollFirst();
                    return false;
                }
                if (kind == Kind.PARSE) {
                    queue.pollFirst();
                }
            }
            case MessageType.BIND_COMPLETE -> {
                if (kind == Kind.BIND) {
                    queue.pollFirst();
                }
            }
            case MessageType.CLOSE_COMPLETE -> {
                if (kind == Kind.CLOSE_SWALLOW) {
                    queue.pollFirst();
                    return false;
                }
                if (kind == Kind.CLOSE) {
                    queue.pollFirst();
                }
            }
            case MessageType.ROW_DESCRIPTION, MessageType.NO_DATA -> {
                // ParameterDescription ('t') precedes these for a statement Describe; they end the Describe.
                if (kind == Kind.DESCRIBE) {
                    queue.pollFirst();
                }
            }
            case MessageType.COMMAND_COMPLETE -> {
                if (kind == Kind.EXECUTE) {
                    queue.pollFirst();
                }
                if (dropsAllStatements(frame)) {
                    // The client ran DISCARD ALL / DEALLOCATE ALL: this server has no prepared statements left.
                    server.preparedStatements().clear();
                    discarded = true;
                }
            }
            case MessageType.EMPTY_QUERY_RESPONSE, MessageType.PORTAL_SUSPENDED -> {
                if (kind == Kind.EXECUTE) {
                    queue.pollFirst();
                }
            }
            case MessageType.ERROR_RESPONSE -> {
                if (kind != null && kind != Kind.QUERY && kind != Kind.SYNC) {
                    skipUntilSync(server);
                }
            }
            case MessageType.READY_FOR_QUERY -> {
                while (!queue.isEmpty()) {
                    Kind k = queue.pollFirst().kind();
                    if (k == Kind.SYNC || k == Kind.QUERY) {
                        break;
                    }
                }
            }
            default -> { }
        }
        return true;
    }

    /** After an error the server ignores messages until Sync: so do we, undoing what they would have prepared. */
    private void skipUntilSync(ServerConnection server) {
        while (!queue.isEmpty() && queue.peekFirst().kind() != Kind.SYNC && queue.peekFirst().kind() != Kind.QUERY) {
            Expect e = queue.pollFirst();
            switch (e.kind()) {
                case PARSE, PARSE_SWALLOW -> {
                    if (e.serverStatement() != null) {
                        server.preparedStatements().remove(e.serverStatement());
                    }
                }
                case CLOSE_SWALLOW -> server.preparedStatements().put(e.serverStatement(), Boolean.TRUE);
                default -> { }
            }
        }
    }
}
