package dev.sluice.cli;

import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of sluice.jar: the only place that reads argv and calls System.exit. */
@Command(name = "sluice", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class,
        description = "Sluice: a PostgreSQL connection guard (PgBouncer-compatible pooling proxy).",
        subcommands = {RunCommand.class, CheckConfigCommand.class, DevCommand.class, VersionCommand.class,
                ReplayCommand.class, AuditCommand.class})
public final class Main {
    private static final Set<String> SUBCOMMANDS = Set.of("run", "check-config", "dev", "version", "help",
            "replay", "audit");

    public static void main(String[] args) {
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            // Netty samples one buffer in 128 by default and records a stack trace for it: measurable CPU on
            // every path that allocates (docs/benchmarks.md). The tests, which run the server without main,
            // keep the detector on, and -Dio.netty.leakDetection.level=paranoid turns it on here.
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
        System.exit(execute(args));
    }

    /** Runs a command line and returns its exit code (tests call this instead of main). */
    public static int execute(String... args) {
        String[] effective = args;
        if (args.length == 0) {
            effective = new String[] {"dev"}; // the embedded default: a newcomer's first command
        } else if (!SUBCOMMANDS.contains(args[0]) && !args[0].startsWith("-")) {
            // `sluice pgbouncer.ini` is `sluice run pgbouncer.ini`, as with pgbouncer itself.
            effective = new String[args.length + 1];
            effective[0] = "run";
            System.arraycopy(args, 0, effective, 1, args.length);
        }
        return new CommandLine(new Main()).execute(effective);
    }
}
