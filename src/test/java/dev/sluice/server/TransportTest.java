package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.Test;

class TransportTest {

    @Test
    void autoIsEpollOnLinuxAndNioIsAlwaysThere() {
        Transport auto = Transport.choose("auto");
        if (Epoll.isAvailable()) {
            assertThat(auto.name()).isEqualTo("epoll");
            assertThat(auto.socketChannel()).isEqualTo(EpollSocketChannel.class);
            assertThat(auto.domainChannel()).isNotNull();
        }
        assertThat(auto.experimental()).isFalse();
        Transport nio = Transport.choose("nio");
        assertThat(nio.socketChannel()).isEqualTo(NioSocketChannel.class);
        assertThat(nio.domainChannel()).isNull(); // unix_socket_dir is refused with a warning then
    }

    @Test
    void ioUringIsOnlyEverChosenWhenAskedForAndMarkedExperimental() {
        try {
            Transport t = Transport.choose("io_uring");
            assertThat(t.name()).isEqualTo("io_uring");
            assertThat(t.experimental()).isTrue();
            // Multishot polls miss resets on this Netty (TransportResetTest): Transport turns them off.
            assertThat(io.netty.channel.uring.IoUring.isPollAddMultishotEnabled()).isFalse();
        } catch (IllegalStateException e) {
            assertThat(e).hasMessageContaining("io_uring asked for but not available here");
        }
    }

    @Test
    void anUnknownTransportIsRefusedNamingTheChoices() {
        assertThatThrownBy(() -> Transport.choose("kqueue"))
                .hasMessageContaining("unknown transport 'kqueue'")
                .hasMessageContaining("auto, epoll, io_uring or nio");
    }
}
