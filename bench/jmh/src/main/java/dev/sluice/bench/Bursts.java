package dev.sluice.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes of typical read bursts, built frame by frame as PostgreSQL and pgbench send them: the reply
 * to pgbench's select-only transaction, the same with many rows, and a client's extended-protocol
 * pipeline. Each burst is one pooled direct buffer (what an epoll read hands the pipeline) plus the
 * length of every frame in it.
 */
public final class Bursts {
    private Bursts() {}

    /** pgbench -S: {@code SELECT abalance FROM pgbench_accounts WHERE aid = $1}. */
    public static final String SELECT = "SELECT abalance FROM pgbench_accounts WHERE aid = 48211;";

    /** One burst: its bytes and its frames' lengths, in order. */
    public record Burst(ByteBuf bytes, int[] frameLengths) {
        public int frames() {
            return frameLengths.length;
        }
    }

    /** By name: selectReply, selectReply100Rows, extendedPipeline. */
    public static Burst named(String name) {
        return switch (name) {
            case "selectReply" -> selectReply(1);
            case "selectReply100Rows" -> selectReply(100);
            case "extendedPipeline" -> extendedPipeline();
            default -> throw new IllegalArgumentException("unknown burst " + name);
        };
    }

    /** RowDescription + rows x DataRow + CommandComplete + ReadyForQuery, as PostgreSQL answers a SELECT. */
    public static Burst selectReply(int rows) {
        List<ByteBuf> frames = new ArrayList<>();
        // RowDescription: one int4 column "abalance" of pgbench_accounts
        ByteBuf t = body();
        t.writeShort(1);
        cstring(t, "abalance");
        t.writeInt(16397).writeShort(3).writeInt(23).writeShort(4).writeInt(-1).writeShort(0);
        frames.add(frame('T', t));
        for (int i = 0; i < rows; i++) {
            ByteBuf d = body();
            byte[] v = Integer.toString(-2417 - i).getBytes(StandardCharsets.US_ASCII);
            d.writeShort(1).writeInt(v.length).writeBytes(v);
            frames.add(frame('D', d));
        }
        ByteBuf c = body();
        cstring(c, "SELECT " + rows);
        frames.add(frame('C', c));
        ByteBuf z = body();
        z.writeByte('I');
        frames.add(frame('Z', z));
        return join(frames);
    }

    /** Parse + Bind + Describe (portal) + Execute + Sync: one extended-protocol query, unnamed statement. */
    public static Burst extendedPipeline() {
        List<ByteBuf> frames = new ArrayList<>();
        ByteBuf p = body();
        cstring(p, "");
        cstring(p, "SELECT abalance FROM pgbench_accounts WHERE aid = $1;");
        p.writeShort(0);
        frames.add(frame('P', p));
        ByteBuf b = body();
        cstring(b, "");
        cstring(b, "");
        b.writeShort(0).writeShort(1).writeInt(5).writeBytes("48211".getBytes(StandardCharsets.US_ASCII)).writeShort(0);
        frames.add(frame('B', b));
        ByteBuf d = body();
        d.writeByte('P');
        cstring(d, "");
        frames.add(frame('D', d));
        ByteBuf e = body();
        cstring(e, "");
        e.writeInt(0);
        frames.add(frame('E', e));
        frames.add(frame('S', body()));
        return join(frames);
    }

    /** A simple-protocol Query frame ('Q') for {@code sql}, in a pooled direct buffer. */
    public static ByteBuf query(String sql) {
        ByteBuf q = body();
        cstring(q, sql);
        ByteBuf f = frame('Q', q);
        ByteBuf out = PooledByteBufAllocator.DEFAULT.directBuffer(f.readableBytes());
        out.writeBytes(f);
        f.release();
        return out;
    }

    /** A CommandComplete frame ('C') with {@code tag}, in a pooled direct buffer. */
    public static ByteBuf commandComplete(String tag) {
        ByteBuf c = body();
        cstring(c, tag);
        ByteBuf f = frame('C', c);
        ByteBuf out = PooledByteBufAllocator.DEFAULT.directBuffer(f.readableBytes());
        out.writeBytes(f);
        f.release();
        return out;
    }

    private static ByteBuf body() {
        return io.netty.buffer.Unpooled.buffer();
    }

    private static void cstring(ByteBuf b, String s) {
        b.writeBytes(s.getBytes(StandardCharsets.UTF_8)).writeByte(0);
    }

    private static ByteBuf frame(char type, ByteBuf body) {
        ByteBuf f = io.netty.buffer.Unpooled.buffer(5 + body.readableBytes());
        f.writeByte(type).writeInt(4 + body.readableBytes()).writeBytes(body);
        body.release();
        return f;
    }

    private static Burst join(List<ByteBuf> frames) {
        int total = 0;
        int[] lengths = new int[frames.size()];
        for (int i = 0; i < frames.size(); i++) {
            lengths[i] = frames.get(i).readableBytes();
            total += lengths[i];
        }
        ByteBuf all = PooledByteBufAllocator.DEFAULT.directBuffer(total);
        for (ByteBuf f : frames) {
            all.writeBytes(f);
            f.release();
        }
        return new Burst(all, lengths);
    }
}
