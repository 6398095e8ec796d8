package dev.sluice.audit;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Finds which process owns a loopback TCP connection to Sluice (Linux /proc): the socket's inode from
 * /proc/net/tcp{,6}, then the process holding a file descriptor to it. Best effort: null when /proc is
 * missing, the process is gone already, or another user's process cannot be inspected.
 */
public final class ProcessOwners {
    /** A process: its id and program name (as /proc/PID/comm, e.g. "psql", "java", "python3"). */
    public record Owner(long pid, String program) {}

    private final int serverPort;
    private final long self = ProcessHandle.current().pid();

    /** {@code serverPort}: the port Sluice listens on (the remote port of the client's socket). */
    public ProcessOwners(int serverPort) {
        this.serverPort = serverPort;
    }

    public static boolean available() {
        return Files.isReadable(Path.of("/proc/net/tcp"));
    }

    /** The owner of the client socket with local port {@code clientPort}, or null. */
    public Owner find(int clientPort) {
        try {
            String inode = inode(clientPort);
            if (inode == null) {
                return null;
            }
            String target = "socket:[" + inode + "]";
            try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
                for (Path proc : procs) {
                    long pid = Long.parseLong(proc.getFileName().toString());
                    if (pid == self) {
                        continue;
                    }
                    if (holds(proc, target)) {
                        String comm = Files.readString(proc.resolve("comm")).strip();
                        return new Owner(pid, comm);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    private static boolean holds(Path proc, String target) {
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).toString().equals(target)) {
                        return true;
                    }
                } catch (IOException | UnsupportedOperationException e) {
                    // the descriptor closed meanwhile
                }
            }
        } catch (IOException | SecurityException e) {
            return false; // another user's process, or gone
        }
        return false;
    }

    private String inode(int clientPort) throws IOException {
        String local = ":" + hex4(clientPort);
        String remote = ":" + hex4(serverPort);
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path p = Path.of(table);
            if (!Files.isReadable(p)) {
                continue;
            }
            for (String line : Files.readAllLines(p)) {
                String[] f = line.trim().split("\\s+");
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                if (f.length > 9 && f[1].endsWith(local) && f[2].endsWith(remote)) {
                    return f[9];
                }
            }
        }
        return null;
    }

    private static String hex4(int port) {
        return String.format(Locale.ROOT, "%04X", port);
    }
}
