package dev.sluice.audit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What `sluice audit` was asked to do.
 *
 * @param upstream             postgres://user:password@host:port/db to put Sluice in front of; null starts an
 *                             embedded PostgreSQL
 * @param json                 where to write the JSON report; null for none
 * @param maxConnections       the command may not hold more connections at once; 0 = no limit
 * @param maxIdleInTransaction no connection may sit idle inside a transaction longer; zero = no limit
 * @param allowLeaks           leaked connections are reported but do not fail the audit
 * @param command              the program and its arguments
 */
public record AuditOptions(String upstream, Path json, int maxConnections, Duration maxIdleInTransaction,
                           boolean allowLeaks, List<String> command) {
    public AuditOptions {
        command = List.copyOf(command);
    }
}
