package dev.sluice.server;

import io.netty.channel.Channel;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDomainSocketChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerDomainSocketChannel;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Locale;

/**
 * The Netty transport every socket of Sluice uses: its event-loop I/O handler and channel classes.
 * {@code epoll} by default on Linux, {@code nio} elsewhere. {@code io_uring} only when asked for
 * ({@code SLUICE_TRANSPORT=io_uring} or {@code -Dsluice.transport=io_uring}) and the kernel allows it: it is
 * EXPERIMENTAL. It cut Sluice's CPU per transaction by a fifth to almost half in pgbench runs
 * (docs/benchmarks.md, "io_uring"). Unix-domain sockets need epoll or io_uring ({@code domainChannel} is
 * null with nio).
 *
 * <p>With io_uring, Netty's multishot POLL_ADD is turned off (unless {@value #POLL_ADD_MULTISHOT} is set
 * explicitly): on Netty 4.2.18 a channel armed that way misses most resets (RST) from its peer
 * (TransportResetTest), so a killed client's session and the server it holds would wait forever
 * (ClientKillTest stalls); with one-shot polls every reset is seen.
 */
public record Transport(String name, boolean experimental, IoHandlerFactory ioHandler,
                        Class<? extends ServerChannel> serverChannel, Class<? extends Channel> socketChannel,
                        Class<? extends ServerChannel> serverDomainChannel, Class<? extends Channel> domainChannel) {

    /** The transport asked for by SLUICE_TRANSPORT / sluice.transport (auto, epoll, io_uring, nio). */
    public static Transport choose() {
        String asked = System.getProperty("sluice.transport", System.getenv().getOrDefault("SLUICE_TRANSPORT", "auto"));
        return choose(asked.trim().toLowerCase(Locale.ROOT));
    }

    /** Netty's switch for multishot POLL_ADD on io_uring, read once when its IoUring class initialises. */
    static final String POLL_ADD_MULTISHOT = "io.netty.iouring.pollAddMultishotEnabled";

    static Transport choose(String asked) {
        switch (asked) {
            case "io_uring", "iouring" -> {
                // Must precede the first use of IoUring: Netty reads the switch in its static initialiser.
                if (System.getProperty(POLL_ADD_MULTISHOT) == null) {
                    System.setProperty(POLL_ADD_MULTISHOT, "false");
                }
                if (IoUring.isAvailable()) {
                    return ioUring();
                }
                throw new IllegalStateException("transport io_uring asked for but not available here: "
                        + IoUring.unavailabilityCause());
            }
            case "epoll" -> {
                if (Epoll.isAvailable()) {
                    return epoll();
                }
                throw new IllegalStateException("transport epoll asked for but not available here: "
                        + Epoll.unavailabilityCause());
            }
            case "nio" -> {
                return nio();
            }
            case "auto", "" -> {
                return Epoll.isAvailable() ? epoll() : nio();
            }
            default -> throw new IllegalStateException("unknown transport '" + asked
                    + "' (SLUICE_TRANSPORT / sluice.transport): use auto, epoll, io_uring or nio");
        }
    }

    private static Transport epoll() {
        return new Transport("epoll", false, EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                EpollSocketChannel.class, EpollServerDomainSocketChannel.class, EpollDomainSocketChannel.class);
    }

    private static Transport ioUring() {
        return new Transport("io_uring", true, IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class,
                IoUringSocketChannel.class, IoUringServerDomainSocketChannel.class, IoUringDomainSocketChannel.class);
    }

    private static Transport nio() {
        return new Transport("nio", false, NioIoHandler.newFactory(), NioServerSocketChannel.class,
                NioSocketChannel.class, null, null);
    }
}
