package dev.sluice.config;

// One [users] entry: per-user overrides; null fields mean "not set here, use the global setting".
public record UserConfig(String name, PoolMode poolMode, Integer maxUserConnections, String source) {
}
