package dev.sluice.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutboundBatchTest {

    private static ByteBuf frame(char type, int bodyBytes) {
        ByteBuf b = Unpooled.buffer(5 + bodyBytes);
        b.writeByte(type).writeInt(4 + bodyBytes);
        for (int i = 0; i < bodyBytes; i++) {
            b.writeByte('a' + i % 26);
        }
        return b;
    }

    private static List<ByteBuf> written(EmbeddedChannel ch) {
        List<ByteBuf> out = new ArrayList<>();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            out.add((ByteBuf) o);
        }
        return out;
    }

    @Test
    void smallFramesOfOneBurstBecomeOneWriteWithTheirBytesInOrder() {
        EmbeddedChannel ch = new EmbeddedChannel();
        OutboundBatch batch = new OutboundBatch(ch);
        List<ByteBuf> frames = List.of(frame('T', 30), frame('D', 12), frame('C', 9), frame('Z', 1));
        ByteBuf expected = Unpooled.buffer();
        frames.forEach(f -> expected.writeBytes(f, f.readerIndex(), f.readableBytes()));
        frames.forEach(batch::add);
        assertThat(written(ch)).isEmpty(); // nothing leaves before writeCollected + flush
        batch.writeCollected();
        ch.flush();
        List<ByteBuf> out = written(ch);
        assertThat(out).hasSize(1);
        assertThat(ByteBufUtil.equals(out.get(0), expected)).isTrue();
        assertThat(frames).allSatisfy(f -> assertThat(f.refCnt()).isZero()); // copied frames are released
        out.forEach(ByteBuf::release);
    }

    @Test
    void aLargeFrameIsPassedOnUncopiedAfterWhatCameBeforeIt() {
        EmbeddedChannel ch = new EmbeddedChannel();
        OutboundBatch batch = new OutboundBatch(ch);
        ByteBuf small1 = frame('D', 10);
        ByteBuf large = frame('D', OutboundBatch.COPY_LIMIT + 100);
        ByteBuf small2 = frame('Z', 1);
        ByteBuf small1Bytes = small1.copy();
        ByteBuf small2Bytes = small2.copy();
        batch.add(small1);
        batch.add(large);
        batch.add(small2);
        batch.writeCollected();
        ch.flush();
        List<ByteBuf> out = written(ch);
        assertThat(out).hasSize(3);
        assertThat(ByteBufUtil.equals(out.get(0), small1Bytes)).isTrue();
        assertThat(out.get(1)).isSameAs(large); // the same buffer: not copied
        assertThat(ByteBufUtil.equals(out.get(2), small2Bytes)).isTrue();
        out.forEach(ByteBuf::release);
        assertThat(List.of(small1, large, small2)).allSatisfy(f -> assertThat(f.refCnt()).isZero());
    }

    @Test
    void aBurstOfOneSmallFrameIsWrittenAsItIs() {
        EmbeddedChannel ch = new EmbeddedChannel();
        OutboundBatch batch = new OutboundBatch(ch);
        ByteBuf query = frame('Q', 40);
        batch.add(query);
        batch.writeCollected();
        batch.writeCollected(); // a second call writes nothing more
        ch.flush();
        List<ByteBuf> out = written(ch);
        assertThat(out).containsExactly(query);
        out.forEach(ByteBuf::release);
    }

    @Test
    void directFramesAreCopiedIntoOneDirectBufferWithTheirBytesInOrder() {
        EmbeddedChannel ch = new EmbeddedChannel();
        OutboundBatch batch = new OutboundBatch(ch);
        ByteBuf read = Unpooled.directBuffer(256);
        read.writeBytes(frame('C', 9)).writeBytes(frame('Z', 1)).writeBytes(frame('N', 3));
        ByteBuf expected = read.copy(0, read.readableBytes() - 8);
        batch.add(read.readRetainedSlice(14)); // slices of one read buffer, as the frame decoder makes them
        batch.add(read.readRetainedSlice(6));
        batch.writeCollected();
        ch.flush();
        List<ByteBuf> out = written(ch);
        assertThat(out).hasSize(1);
        assertThat(ByteBufUtil.equals(out.get(0), expected)).isTrue();
        out.forEach(ByteBuf::release);
        assertThat(read.release()).isTrue(); // the slices were released: only the read's own reference was left
    }

    @Test
    void aLongBurstIsSplitIntoBoundedBuffers() {
        EmbeddedChannel ch = new EmbeddedChannel();
        OutboundBatch batch = new OutboundBatch(ch);
        int total = 0;
        for (int i = 0; i < 200; i++) {
            ByteBuf f = frame('D', 500);
            total += f.readableBytes();
            batch.add(f);
        }
        batch.writeCollected();
        ch.flush();
        List<ByteBuf> out = written(ch);
        assertThat(out).allSatisfy(b -> assertThat(b.readableBytes())
                .isLessThanOrEqualTo(OutboundBatch.BUFFER_LIMIT + OutboundBatch.COPY_LIMIT));
        assertThat(out.stream().mapToInt(ByteBuf::readableBytes).sum()).isEqualTo(total);
        out.forEach(ByteBuf::release);
    }

    @Test
    void discardReleasesWhatWasNotWritten() {
        EmbeddedChannel ch = new EmbeddedChannel();
        OutboundBatch one = new OutboundBatch(ch);
        ByteBuf query = frame('Q', 20);
        one.add(query);
        one.discard();
        assertThat(query.refCnt()).isZero();
        OutboundBatch two = new OutboundBatch(ch);
        ByteBuf parse = frame('P', 20);
        ByteBuf bind = frame('B', 20);
        two.add(parse);
        two.add(bind);
        two.discard();
        two.writeCollected(); // nothing left to write
        ch.flush();
        assertThat(written(ch)).isEmpty();
        assertThat(List.of(parse, bind)).allSatisfy(f -> assertThat(f.refCnt()).isZero());
        ByteBuf late = frame('E', 9); // written by an owner that has not noticed the close yet
        two.add(late);
        assertThat(late.refCnt()).isZero();
    }
}
