package dev.sluice.pool;

import dev.sluice.config.PoolMode;

/** The limits of one pool after resolving [databases], [users] and global settings. */
public record PoolSettings(PoolMode mode, int poolSize, int minPoolSize, int reservePoolSize,
                           int maxDbConnections, int maxUserConnections,
                           long serverLifetimeNanos, long serverIdleTimeoutNanos) {}
