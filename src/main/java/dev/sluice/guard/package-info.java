// Role: package overview.

/**
 * What keeps one workload from exhausting the database: workloads and their limits
 * ({@link dev.sluice.guard.Workloads}), leak attribution ({@link dev.sluice.guard.LeakDetector}), and the
 * database-wide budget. For the budget, a {@link dev.sluice.guard.BudgetMonitor} per PostgreSQL server
 * (one per {@link dev.sluice.config.BudgetTarget}) reads max_connections, the reserved slots and the
 * connections that bypass Sluice, and publishes a {@link dev.sluice.guard.BudgetSnapshot}: a
 * {@link dev.sluice.guard.ServerCapacity} (the budget and how it was reached) and the
 * {@link dev.sluice.guard.BypassGroup}s. Monitors block on JDBC, so they run on threads of their own;
 * the pool manager reads their snapshots and keeps Sluice's server connections to each server within
 * its budget.
 */
package dev.sluice.guard;
