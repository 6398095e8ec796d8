package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringSocketChannel;
import org.junit.jupiter.api.Test;

class TransportTest {

    @Test
    void autoIsIoUringWhereTheKernelAllowsItThenEpollThenNio() {
        Transport auto = Transport.choose("auto");
        if (IoUring.isAvailable()) {
            assertThat(auto.name()).isEqualTo("io_uring");
            assertThat(auto.socketChannel()).isEqualTo(IoUringSocketChannel.class);
            assertThat(auto.why()).isEqualTo("default");
        } else if (Epoll.isAvailable()) {
            assertThat(auto.name()).isEqualTo("epoll");
            assertThat(auto.socketChannel()).isEqualTo(EpollSocketChannel.class);
            assertThat(auto.why()).startsWith("io_uring not available: ");
        } else {
            assertThat(auto.name()).isEqualTo("nio");
        }
        if (!auto.name().equals("nio")) {
            assertThat(auto.domainChannel()).isNotNull();
        }
        Transport nio = Transport.choose("nio");
        assertThat(nio.socketChannel()).isEqualTo(NioSocketChannel.class);
        assertThat(nio.domainChannel()).isNull(); // unix_socket_dir is refused with a warning then
        assertThat(nio.why()).isEqualTo("asked for");
    }

    @Test
    void ioUringRunsWithOneShotPolls() {
        try {
            Transport t = Transport.choose("io_uring");
            assertThat(t.name()).isEqualTo("io_uring");
            // Multishot polls miss resets on this Netty (TransportResetTest): Transport turns them off.
            assertThat(IoUring.isPollAddMultishotEnabled()).isFalse();
        } catch (IllegalStateException e) {
            assertThat(e).hasMessageContaining("io_uring asked for but not available here");
        }
    }

    @Test
    void epollCanBeForced() {
        if (Epoll.isAvailable()) {
            Transport t = Transport.choose("epoll");
            assertThat(t.socketChannel()).isEqualTo(EpollSocketChannel.class);
            assertThat(t.why()).isEqualTo("asked for");
        }
    }

    @Test
    void anUnknownTransportIsRefusedNamingTheChoices() {
        assertThatThrownBy(() -> Transport.choose("kqueue"))
                .hasMessageContaining("unknown transport 'kqueue'")
                .hasMessageContaining("auto, io_uring, epoll or nio");
    }
}
