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
 * The Netty transport every socket of Sluice uses: its event-loop I/O handler and channel classes, and why it
 * was chosen (logged at start). By default ({@code auto}) io_uring where the kernel allows it, epoll where it
 * does not (kernels without the io_uring features Netty needs, containers whose seccomp profile blocks io_uring, {@code
 * kernel.io_uring_disabled}), nio off Linux; {@code SLUICE_TRANSPORT} or {@code -Dsluice.transport} (auto,
 * io_uring, epoll, nio) forces one. io_uring is the default because it batches the system calls and wake-ups
 * that are most of Sluice's CPU: a fifth to a half less CPU per transaction than epoll in pgbench runs, below
 * PgBouncer's at 50 and 200 clients (docs/benchmarks.md, "io_uring"). Unix-domain sockets need epoll or
 * io_uring ({@code domainChannel} is null with nio).
 *
 * <p>With io_uring, Netty's multishot POLL_ADD is turned off (unless {@value #POLL_ADD_MULTISHOT} is set
 * explicitly): on Netty 4.2.18 a channel armed that way misses most resets (RST) from its peer
 * (TransportResetTest), so a killed client's session and the server it holds would wait forever
 * (ClientKillTest stalled); with one-shot polls every reset is seen.
 */
public record Transport(String name, String why, IoHandlerFactory ioHandler,
                        Class<? extends ServerChannel> serverChannel, Class<? extends Channel> socketChannel,
                        Class<? extends ServerChannel> serverDomainChannel, Class<? extends Channel> domainChannel) {

    /** Netty's switch for multishot POLL_ADD on io_uring, read once when its IoUring class initialises. */
    static final String POLL_ADD_MULTISHOT = "io.netty.iouring.pollAddMultishotEnabled";

    /** The transport asked for by SLUICE_TRANSPORT / sluice.transport (auto, io_uring, epoll, nio). */
    public static Transport choose() {
        String asked = System.getProperty("sluice.transport", System.getenv().getOrDefault("SLUICE_TRANSPORT", "auto"));
        return choose(asked.trim().toLowerCase(Locale.ROOT));
    }

    static Transport choose(String asked) {
        switch (asked) {
            case "io_uring", "iouring" -> {
                if (ioUringAvailable()) {
                    return ioUring("asked for");
                }
                throw new IllegalStateException("transport io_uring asked for but not available here: "
                        + IoUring.unavailabilityCause());
            }
            case "epoll" -> {
                if (Epoll.isAvailable()) {
                    return epoll("asked for");
                }
                throw new IllegalStateException("transport epoll asked for but not available here: "
                        + Epoll.unavailabilityCause());
            }
            case "nio" -> {
                return nio("asked for");
            }
            case "auto", "" -> {
                if (ioUringAvailable()) {
                    return ioUring("default");
                }
                String noUring = "io_uring not available: " + IoUring.unavailabilityCause();
                return Epoll.isAvailable() ? epoll(noUring)
                        : nio(noUring + "; epoll not available: " + Epoll.unavailabilityCause());
            }
            default -> throw new IllegalStateException("unknown transport '" + asked
                    + "' (SLUICE_TRANSPORT / sluice.transport): use auto, io_uring, epoll or nio");
        }
    }

    private static boolean ioUringAvailable() {
        // Must precede the first use of IoUring: Netty reads the switch in its static initialiser.
        if (System.getProperty(POLL_ADD_MULTISHOT) == null) {
            System.setProperty(POLL_ADD_MULTISHOT, "false");
        }
        return IoUring.isAvailable();
    }

    private static Transport epoll(String why) {
        return new Transport("epoll", why, EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                EpollSocketChannel.class, EpollServerDomainSocketChannel.class, EpollDomainSocketChannel.class);
    }

    private static Transport ioUring(String why) {
        return new Transport("io_uring", why, IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class,
                IoUringSocketChannel.class, IoUringServerDomainSocketChannel.class, IoUringDomainSocketChannel.class);
    }

    private static Transport nio(String why) {
        return new Transport("nio", why, NioIoHandler.newFactory(), NioServerSocketChannel.class,
                NioSocketChannel.class, null, null);
    }
}
