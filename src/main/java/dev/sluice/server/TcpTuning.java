package dev.sluice.server;

import dev.sluice.config.TcpKeepalive;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import jdk.net.ExtendedSocketOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets the keepalive options (tcp_keepalive, tcp_keepidle, tcp_keepintvl, tcp_keepcnt,
 * tcp_user_timeout) on a TCP channel, in whichever spelling its transport understands: io_uring and epoll have
 * their own options (setsockopt on the socket), nio goes through the JDK's extended socket options, which have
 * no TCP_USER_TIMEOUT. Channels that are not TCP (Unix sockets) are left alone. Called from channel
 * initialisers, on the channel's event loop, before any byte is exchanged.
 */
public final class TcpTuning {
    private static final Logger log = LoggerFactory.getLogger(TcpTuning.class);
    /** Options this transport could not set: warned about once per process, not once per connection. */
    private static final Set<String> warned = ConcurrentHashMap.newKeySet();

    private TcpTuning() {
    }

    public static void apply(Channel ch, TcpKeepalive k) {
        if (!(ch instanceof SocketChannel)) {
            return;
        }
        // TCP_NODELAY is already on: Netty's socket configs enable it on every platform but Android (a second
        // setsockopt per connection was ~2 % of Sluice's CPU under pgbench -C; TcpKeepaliveTest checks it is on).
        // SO_KEEPALIVE is off on a new socket: set only when wanted.
        if (k.enabled()) {
            ch.config().setOption(ChannelOption.SO_KEEPALIVE, true);
            if (k.idleSeconds() > 0) {
                set(ch, "tcp_keepidle", k.idleSeconds(), IoUringChannelOption.TCP_KEEPIDLE,
                        EpollChannelOption.TCP_KEEPIDLE, NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE));
            }
            if (k.intervalSeconds() > 0) {
                set(ch, "tcp_keepintvl", k.intervalSeconds(), IoUringChannelOption.TCP_KEEPINTVL,
                        EpollChannelOption.TCP_KEEPINTVL, NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL));
            }
            if (k.count() > 0) {
                set(ch, "tcp_keepcnt", k.count(), IoUringChannelOption.TCP_KEEPCNT,
                        EpollChannelOption.TCP_KEEPCNT, NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT));
            }
        }
        if (k.userTimeoutMillis() > 0) {
            // Independent of keepalive: it bounds how long written data may go unacknowledged.
            set(ch, "tcp_user_timeout", k.userTimeoutMillis(), IoUringChannelOption.TCP_USER_TIMEOUT,
                    EpollChannelOption.TCP_USER_TIMEOUT, null);
        }
    }

    private static void set(Channel ch, String setting, int value, ChannelOption<Integer> ioUring,
                            ChannelOption<Integer> epoll, ChannelOption<Integer> nio) {
        ChannelOption<Integer> option = ch instanceof IoUringSocketChannel ? ioUring
                : ch instanceof EpollSocketChannel ? epoll : nio;
        try {
            if (option != null && ch.config().setOption(option, value)) {
                return;
            }
        } catch (RuntimeException e) { // the kernel refused the value (setsockopt failed)
            if (warned.add(setting + "=" + value)) {
                log.warn("{} = {} could not be set on {} sockets: {}; the operating system's default applies",
                        setting, value, ch.getClass().getSimpleName(), e.getMessage());
            }
            return;
        }
        if (warned.add(setting)) {
            log.warn("{} is not supported by the {} transport here; the operating system's default applies",
                    setting, ch.getClass().getSimpleName());
        }
    }
}
