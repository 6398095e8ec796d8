package dev.sluice.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

/**
 * Collects the frames of one read burst bound for one channel into as few writes as possible. Small
 * frames (RowDescription, a DataRow, CommandComplete, ReadyForQuery: tens of bytes each) are copied into
 * one pooled buffer, so the burst costs one outbound entry and one iovec instead of one per message; a
 * frame above {@link #COPY_LIMIT} is passed on as it is (its bytes are not copied), after what was
 * collected before it, so order is kept. A burst of a single small frame (a client's Query, the usual
 * case towards the server) is written as it is: copying it would buy nothing.
 * Nothing is flushed here: the caller flushes once per burst.
 * Not thread-safe: used on the channel's event loop only.
 */
public final class OutboundBatch {
    /** Frames up to this size are copied: copying them costs less than a write entry of their own. */
    static final int COPY_LIMIT = 1024;
    /** A collected buffer is written out once it holds this much, to keep buffers in the allocator's sizes. */
    static final int BUFFER_LIMIT = 32 * 1024;

    private final Channel channel;
    /** The burst's first small frame, held uncopied until a second one shows the copy is worth it. */
    private ByteBuf first;
    private ByteBuf collected;
    /** After {@link #discard()}: the connection is closing, frames added later are released at once. */
    private boolean discarded;

    public OutboundBatch(Channel channel) {
        this.channel = channel;
    }

    /** Adds one complete frame; ownership passes to the batch (it is released or written). */
    public void add(ByteBuf frame) {
        if (discarded) {
            frame.release();
            return;
        }
        int n = frame.readableBytes();
        if (n > COPY_LIMIT) {
            writeCollected();
            channel.write(frame, channel.voidPromise());
            return;
        }
        if (collected == null) {
            if (first == null) {
                first = frame;
                return;
            }
            ByteBuf f = first;
            first = null;
            collected = channel.alloc().ioBuffer(Math.max(256, f.readableBytes() + n));
            append(f);
        }
        append(frame);
        if (collected.readableBytes() >= BUFFER_LIMIT) {
            writeCollected();
        }
    }

    /** Copies {@code frame} to the end of {@link #collected} and releases it. */
    private void append(ByteBuf frame) {
        int n = frame.readableBytes();
        ByteBuf c = collected;
        c.ensureWritable(n);
        // getBytes into the destination (rather than c.writeBytes(frame)): between two direct buffers it is
        // a plain memory copy, where writeBytes makes an NIO view of the source per call (garbage per frame).
        frame.getBytes(frame.readerIndex(), c, c.writerIndex(), n);
        c.writerIndex(c.writerIndex() + n);
        frame.release();
    }

    /**
     * Releases what was added but not written: for a connection closed in the middle of a burst (a client
     * that sent queries and Terminate in one packet), whose unwritten frames would otherwise pin the buffer
     * they were read into.
     */
    public void discard() {
        discarded = true;
        ByteBuf f = first;
        first = null;
        if (f != null) {
            f.release();
        }
        ByteBuf c = collected;
        collected = null;
        if (c != null) {
            c.release();
        }
    }

    /** Writes (without flushing) what was collected; call before anything else writes to the channel. */
    public void writeCollected() {
        ByteBuf f = first;
        if (f != null) {
            first = null;
            channel.write(f, channel.voidPromise());
            return;
        }
        ByteBuf c = collected;
        if (c != null) {
            collected = null;
            channel.write(c, channel.voidPromise());
        }
    }
}
