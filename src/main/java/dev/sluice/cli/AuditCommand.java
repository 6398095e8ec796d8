package dev.sluice.cli;

import dev.sluice.audit.Audit;
import dev.sluice.audit.AuditOptions;
import dev.sluice.replay.Durations;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `sluice audit [options] -- COMMAND [ARGS...]`: runs a job through an ephemeral Sluice and judges its connection hygiene. */
@Command(name = "audit", mixinStandardHelpOptions = true, description = {
        "Run COMMAND with PGHOST/PGPORT/PGUSER/PGDATABASE/DATABASE_URL/JDBC_DATABASE_URL pointing at an ephemeral"
                + " Sluice, then report per application_name and program: connections opened, closed, leaked,"
                + " peak, longest idle-in-transaction, longest transaction, statements.",
        "Exit status: 0 clean, 1 policy violated (or the command failed), 2 the audit could not run."})
final class AuditCommand implements Callable<Integer> {
    @Option(names = "--upstream", paramLabel = "URL",
            description = "postgres://user:password@host:port/db to audit against (default: an embedded PostgreSQL).")
    String upstream;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON.")
    Path json;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "0",
            description = "Fail when the command holds more than N connections at once (default: no limit).")
    int maxConnections;

    @Option(names = "--max-idle-in-transaction", paramLabel = "DURATION", defaultValue = "5s",
            description = "Fail when a connection sits idle inside a transaction longer (default: ${DEFAULT-VALUE};"
                    + " 0 = no limit).")
    String maxIdleInTransaction;

    @Option(names = "--allow-leaks", description = "Report leaked connections without failing.")
    boolean allowLeaks;

    @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "The command to audit, after --.")
    List<String> command = new ArrayList<>();

    @Override
    public Integer call() {
        java.time.Duration idle;
        try {
            idle = Durations.parse(maxIdleInTransaction);
        } catch (IllegalArgumentException e) {
            System.err.println("sluice audit: --max-idle-in-transaction: " + e.getMessage());
            return Audit.COULD_NOT_RUN;
        }
        if (maxConnections < 0) {
            System.err.println("sluice audit: --max-connections must be 0 (no limit) or more");
            return Audit.COULD_NOT_RUN;
        }
        Logs.quietProxy(ch.qos.logback.classic.Level.ERROR); // the report is the output
        return new Audit(new AuditOptions(upstream, json, maxConnections, idle, allowLeaks, command),
                System.out, System.err).run();
    }
}
