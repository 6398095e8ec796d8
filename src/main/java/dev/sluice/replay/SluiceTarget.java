package dev.sluice.replay;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.guard.Workload;
import dev.sluice.server.SluiceServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Sluice in front of the replay's PostgreSQL, running the scenario's config (the shipped example by default). */
final class SluiceTarget implements Target {
    static final String BUNDLED = "/dev/sluice/replay/examples/sluice-incident.ini";

    private final SluiceServer server;
    private final int port;
    private final SluiceConfig config;
    private final Path file;

    SluiceTarget(Scenario scenario, int pgPort, Path workDir) throws Exception {
        file = workDir.resolve("sluice.ini");
        Files.writeString(file, IniRewrite.forReplay(configText(scenario), configDir(scenario), pgPort));
        config = ConfigLoader.load(file);
        server = new SluiceServer(config, 2);
        port = server.start();
    }

    /** The config as written by the user (or the bundled example). */
    static String configText(Scenario scenario) throws IOException {
        if (scenario.sluiceConfig() != null) {
            return Files.readString(scenario.sluiceConfig());
        }
        try (InputStream in = SluiceTarget.class.getResourceAsStream(BUNDLED)) {
            if (in == null) {
                throw new IOException("the bundled examples/sluice-incident.ini is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static Path configDir(Scenario scenario) {
        return scenario.sluiceConfig() == null ? null : scenario.sluiceConfig().toAbsolutePath().getParent();
    }

    /** The loaded config (the PgBouncer mode copies its pooling settings). */
    static SluiceConfig load(Scenario scenario, int pgPort, Path workDir) throws Exception {
        Path f = workDir.resolve("sluice-for-pgbouncer.ini");
        Files.writeString(f, IniRewrite.forReplay(configText(scenario), configDir(scenario), pgPort));
        return ConfigLoader.load(f);
    }

    /** The workload the job's connections land in (what Sluice's refusals and leak suspects name). */
    Workload jobWorkload() {
        return server.pools().workloads().classify(ReplayDatabase.ROLE, ReplayDatabase.DB, AnalyticsJob.APPLICATION_NAME,
                InetAddress.getLoopbackAddress());
    }

    Workload apiWorkload() {
        return server.pools().workloads().classify(ReplayDatabase.ROLE, ReplayDatabase.DB, "api",
                InetAddress.getLoopbackAddress());
    }

    @Override
    public String mode() {
        return "sluice";
    }

    @Override
    public String jdbcUrl() {
        return ReplayDatabase.url(port, ReplayDatabase.DB);
    }

    @Override
    public SluiceServer sluice() {
        return server;
    }

    SluiceConfig config() {
        return config;
    }

    @Override
    public String describe() {
        var s = config.settings();
        Workload job = jobWorkload();
        return "API and job connect through Sluice (pool_mode=" + s.poolMode().name().toLowerCase() + ", default_pool_size="
                + s.defaultPoolSize() + ", max_client_conn=" + s.maxClientConn() + "); the job is in workload \""
                + job.name() + "\" (max=" + job.config().max() + ", max_clients=" + job.config().maxClients() + ")";
    }

    @Override
    public void close() {
        server.close();
    }
}
