package dev.sluice.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ClosingTest {

    /** Holds every write's promise open until released: a peer that is not reading yet. */
    private static final class SlowPeer extends ChannelOutboundHandlerAdapter {
        final List<ChannelPromise> held = new ArrayList<>();
        final List<Object> written = new ArrayList<>();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            written.add(msg);
            held.add(promise);
        }

        void drain() {
            held.forEach(ChannelPromise::setSuccess);
            held.clear();
        }
    }

    @Test
    void closesOnlyOnceWhatWasWrittenBeforeHasLeft() {
        SlowPeer peer = new SlowPeer();
        EmbeddedChannel ch = new EmbeddedChannel(peer);
        ByteBuf why = Unpooled.copiedBuffer("E...goodbye", StandardCharsets.UTF_8);
        ch.writeAndFlush(why);
        Closing.afterWrites(ch);
        assertThat(ch.isOpen()).isTrue(); // the error message has not left yet
        peer.drain();
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        assertThat(peer.written.get(0)).isSameAs(why);
        why.release();
    }

    @Test
    void aPeerThatNeverReadsIsClosedAfterTheLingerTime() throws Exception {
        SlowPeer peer = new SlowPeer();
        EmbeddedChannel ch = new EmbeddedChannel(peer);
        ch.writeAndFlush(Unpooled.copiedBuffer("E...", StandardCharsets.UTF_8));
        Closing.afterWrites(ch);
        assertThat(ch.isOpen()).isTrue();
        TimeUnit.MILLISECONDS.sleep(Closing.LINGER_MILLIS + 100);
        ch.runScheduledPendingTasks();
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void anInactiveChannelIsClosedAtOnce() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.close();
        Closing.afterWrites(ch);
        assertThat(ch.isOpen()).isFalse();
    }
}
