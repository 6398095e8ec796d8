package dev.sluice.replay;

import java.io.PrintStream;
import java.util.Locale;

/** The replay's progress on stderr: a bar redrawn in place on a terminal, a line every 10 s otherwise. */
final class Progress {
    private final PrintStream err;
    private final boolean terminal;
    private final boolean enabled;

    Progress(PrintStream err, boolean enabled) {
        this.err = err;
        this.terminal = System.console() != null;
        this.enabled = enabled;
    }

    void update(String mode, int done, int total, String status) {
        if (!enabled) {
            return;
        }
        int width = 24;
        int filled = total == 0 ? width : done * width / total;
        String bar = "#".repeat(filled) + ".".repeat(width - filled);
        String line = String.format(Locale.ROOT, "  %-9s [%s] %3d/%ds  %s", mode, bar, done, total, status);
        if (terminal) {
            err.print("\r" + line + "\u001b[K");
            if (done == total) {
                err.println();
            }
        } else if (done % 10 == 0 || done == total) {
            err.println(line);
        }
        err.flush();
    }

    void say(String text) {
        if (enabled) {
            err.println(text);
        }
    }
}
