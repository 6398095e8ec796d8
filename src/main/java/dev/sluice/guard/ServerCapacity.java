package dev.sluice.guard;

// What one PostgreSQL server can give Sluice: its connection slots minus everything Sluice must leave alone.
/**
 * PostgreSQL refuses a new ordinary login once fewer than superuser_reserved_connections +
 * reserved_connections slots of max_connections are free, so those are never Sluice's to use, even when
 * Sluice logs in as a superuser: they are what an operator gets in during an incident. Connections that
 * bypass Sluice, the budget monitor's own connection and the configured headroom come off too.
 *
 * @param superuserReserved  superuser_reserved_connections
 * @param reserved           reserved_connections (PostgreSQL 16+; 0 before)
 * @param bypassing          client backends that are neither Sluice's server connections nor its monitor
 * @param monitorConnections the budget monitor's own connection (1 while it reads the server)
 * @param headroom           budget_headroom in connections (a percentage is already resolved)
 */
public record ServerCapacity(int maxConnections, int superuserReserved, int reserved, int bypassing,
        int monitorConnections, int headroom) {

    public ServerCapacity {
        if (maxConnections < 0 || superuserReserved < 0 || reserved < 0 || bypassing < 0 || monitorConnections < 0
                || headroom < 0) {
            throw new IllegalArgumentException("capacity figures cannot be negative");
        }
    }

    /** Server connections Sluice may hold on this server in total; never below 0. */
    public int budget() {
        long b = (long) maxConnections - superuserReserved - reserved - bypassing - monitorConnections - headroom;
        return (int) Math.max(0, b);
    }

    /**
     * One line for logs and check output, e.g. "budget 84 = max_connections 100 - superuser_reserved 3 -
     * reserved 0 - bypassing 7 - monitor 1 - headroom 5" (ASCII minus, so logs stay greppable).
     */
    public String explain() {
        long raw = (long) maxConnections - superuserReserved - reserved - bypassing - monitorConnections - headroom;
        return "budget " + budget() + " = max_connections " + maxConnections
                + " - superuser_reserved " + superuserReserved
                + " - reserved " + reserved
                + " - bypassing " + bypassing
                + " - monitor " + monitorConnections
                + " - headroom " + headroom
                + (raw < 0 ? " (" + raw + ", so 0)" : "");
    }
}
