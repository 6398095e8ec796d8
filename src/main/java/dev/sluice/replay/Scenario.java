package dev.sluice.replay;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One incident to replay: the timeline (compressed), the API's load and connection style, the leaking
 * job, the database's size and which modes to run. Read from a `key = value` file (see
 * examples/replay/*.scenario); every key has the default of the 2025-02-27 incident.
 *
 * @param deployAt    when the job is deployed; {@code fixAt} when the fixed job replaces it (its leaked
 *                    connections are closed, as the postmortem's restart did), or null for never
 * @param apiRate     API requests per second, sent on schedule whatever the latency (open loop)
 * @param apiPool     "none": a new connection per request, as before pooling; "hikari": a HikariCP pool
 * @param jobRate     analytics tasks per second; each opens a new connection
 * @param leak        "idle" (connections never closed) or "transaction" (transactions left open)
 * @param sluiceConfig the Sluice config to run; null = the shipped examples/sluice-incident.ini
 */
public record Scenario(String name, Duration duration, Duration deployAt, Duration fixAt, long seed, double apiRate,
                       int loginPercent, int readPercent, int transferPercent, String apiPool, int apiPoolSize,
                       int apiThreads, Duration apiTimeout, double jobRate, String leak, int maxConnections,
                       int accounts, Path sluiceConfig, List<String> modes) {

    public static final List<String> ALL_MODES = List.of("direct", "sluice", "pgbouncer");

    public Scenario {
        modes = List.copyOf(modes);
        if (!leak.equals("idle") && !leak.equals("transaction")) {
            throw new IllegalArgumentException("leak must be idle or transaction, not " + leak);
        }
        if (!apiPool.equals("none") && !apiPool.equals("hikari")) {
            throw new IllegalArgumentException("api_pool must be none or hikari, not " + apiPool);
        }
        if (deployAt.compareTo(duration) >= 0) {
            throw new IllegalArgumentException("deploy_at (" + Durations.format(deployAt) + ") must come before the end ("
                    + Durations.format(duration) + ")");
        }
        if (fixAt != null && fixAt.compareTo(deployAt) <= 0) {
            throw new IllegalArgumentException("fix_at must come after deploy_at");
        }
        if (loginPercent + readPercent + transferPercent != 100) {
            throw new IllegalArgumentException("api_mix must add up to 100");
        }
        for (String m : modes) {
            if (!ALL_MODES.contains(m)) {
                throw new IllegalArgumentException("unknown mode " + m + "; use " + String.join(", ", ALL_MODES));
            }
        }
    }

    /** The 2025-02-27 incident: 50 minutes compressed into 90 s, deploy at 11%, hotfix at 89%. */
    public static Scenario incident() {
        return parse("incident", Map.of(), null);
    }

    /** Reads a scenario file; unknown keys and bad values are errors naming the line. */
    public static Scenario load(Path file) throws IOException {
        Map<String, String> kv = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": expected key = value");
            }
            String key = line.substring(0, eq).strip().toLowerCase(Locale.ROOT);
            String value = line.substring(eq + 1).strip();
            int hash = value.indexOf(" #");
            if (hash >= 0) {
                value = value.substring(0, hash).strip();
            }
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": unknown key \"" + key + "\"; known: "
                        + String.join(", ", KEYS));
            }
            kv.put(key, value);
        }
        String name = file.getFileName().toString().replaceFirst("\\.scenario$", "");
        return parse(name, kv, file.toAbsolutePath().getParent());
    }

    static final List<String> KEYS = List.of("duration", "deploy_at", "fix_at", "seed", "api_rate", "api_mix",
            "api_pool", "api_pool_size", "api_threads", "api_timeout", "job_rate", "leak", "max_connections",
            "accounts", "sluice_config", "modes");

    static Scenario parse(String name, Map<String, String> kv, Path dir) {
        Duration duration = Durations.parse(kv.getOrDefault("duration", "90s"));
        String deploy = kv.getOrDefault("deploy_at", "11%");
        String fix = kv.getOrDefault("fix_at", "89%");
        String[] mix = kv.getOrDefault("api_mix", "login:20,read:60,transfer:20").split(",");
        Map<String, Integer> m = new LinkedHashMap<>();
        for (String part : mix) {
            String[] p = part.strip().split(":");
            if (p.length != 2 || !List.of("login", "read", "transfer").contains(p[0].strip())) {
                throw new IllegalArgumentException("api_mix: write e.g. login:20,read:60,transfer:20");
            }
            m.put(p[0].strip(), Integer.parseInt(p[1].strip()));
        }
        Path cfg = null;
        if (kv.containsKey("sluice_config")) {
            cfg = Path.of(kv.get("sluice_config"));
            if (!cfg.isAbsolute() && dir != null) {
                cfg = dir.resolve(cfg);
            }
        }
        List<String> modes = new ArrayList<>();
        for (String mode : kv.getOrDefault("modes", String.join(",", ALL_MODES)).split(",")) {
            modes.add(mode.strip());
        }
        Scenario s = new Scenario(name, duration, Duration.ZERO, null, Long.parseLong(kv.getOrDefault("seed", "20250227")),
                Double.parseDouble(kv.getOrDefault("api_rate", "20")), m.getOrDefault("login", 0),
                m.getOrDefault("read", 0), m.getOrDefault("transfer", 0), kv.getOrDefault("api_pool", "none"),
                Integer.parseInt(kv.getOrDefault("api_pool_size", "10")),
                Integer.parseInt(kv.getOrDefault("api_threads", "32")),
                Durations.parse(kv.getOrDefault("api_timeout", "5s")),
                Double.parseDouble(kv.getOrDefault("job_rate", "10")), kv.getOrDefault("leak", "idle"),
                Integer.parseInt(kv.getOrDefault("max_connections", "100")),
                Integer.parseInt(kv.getOrDefault("accounts", "1000")), cfg, modes);
        s = s.withTimeline(duration, deploy, fix);
        return s;
    }

    /** Sets the timeline; times may be durations or percentages of {@code duration} ("11%"). */
    Scenario withTimeline(Duration d, String deploy, String fix) {
        Duration dep = at(deploy, d);
        Duration fx = fix == null || fix.equalsIgnoreCase("never") || fix.equalsIgnoreCase("none") ? null : at(fix, d);
        return new Scenario(name, d, dep, fx, seed, apiRate, loginPercent, readPercent, transferPercent, apiPool,
                apiPoolSize, apiThreads, apiTimeout, jobRate, leak, maxConnections, accounts, sluiceConfig, modes);
    }

    /** The same scenario over another duration: deploy and fix keep their place in the timeline. */
    public Scenario withDuration(Duration d) {
        double f = (double) d.toMillis() / duration.toMillis();
        Duration dep = Duration.ofMillis(Math.round(deployAt.toMillis() * f));
        Duration fx = fixAt == null ? null : Duration.ofMillis(Math.round(fixAt.toMillis() * f));
        return new Scenario(name, d, dep, fx, seed, apiRate, loginPercent, readPercent, transferPercent, apiPool,
                apiPoolSize, apiThreads, apiTimeout, jobRate, leak, maxConnections, accounts, sluiceConfig, modes);
    }

    public Scenario withModes(List<String> m) {
        return new Scenario(name, duration, deployAt, fixAt, seed, apiRate, loginPercent, readPercent, transferPercent,
                apiPool, apiPoolSize, apiThreads, apiTimeout, jobRate, leak, maxConnections, accounts, sluiceConfig, m);
    }

    public Scenario withSeed(long newSeed) {
        return new Scenario(name, duration, deployAt, fixAt, newSeed, apiRate, loginPercent, readPercent, transferPercent,
                apiPool, apiPoolSize, apiThreads, apiTimeout, jobRate, leak, maxConnections, accounts, sluiceConfig, modes);
    }

    public Scenario withLeak(String kind) {
        return new Scenario(name, duration, deployAt, fixAt, seed, apiRate, loginPercent, readPercent, transferPercent,
                apiPool, apiPoolSize, apiThreads, apiTimeout, jobRate, kind, maxConnections, accounts, sluiceConfig, modes);
    }

    public Scenario withSluiceConfig(Path p) {
        return new Scenario(name, duration, deployAt, fixAt, seed, apiRate, loginPercent, readPercent, transferPercent,
                apiPool, apiPoolSize, apiThreads, apiTimeout, jobRate, leak, maxConnections, accounts, p, modes);
    }

    private static Duration at(String text, Duration d) {
        String t = text.strip();
        if (t.endsWith("%")) {
            double pct = Double.parseDouble(t.substring(0, t.length() - 1).strip());
            return Duration.ofMillis(Math.round(d.toMillis() * pct / 100));
        }
        return Durations.parse(t);
    }

    public Map<String, Object> toJson() {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("name", name);
        j.put("duration_s", duration.toMillis() / 1000.0);
        j.put("deploy_at_s", deployAt.toMillis() / 1000.0);
        j.put("fix_at_s", fixAt == null ? null : fixAt.toMillis() / 1000.0);
        j.put("seed", seed);
        j.put("api_rate", apiRate);
        j.put("api_mix", Map.of("login", loginPercent, "read", readPercent, "transfer", transferPercent));
        j.put("api_pool", apiPool);
        j.put("api_pool_size", apiPool.equals("hikari") ? apiPoolSize : null);
        j.put("api_threads", apiThreads);
        j.put("api_timeout_s", apiTimeout.toMillis() / 1000.0);
        j.put("job_rate", jobRate);
        j.put("leak", leak);
        j.put("max_connections", maxConnections);
        j.put("accounts", accounts);
        j.put("sluice_config", sluiceConfig == null ? "examples/sluice-incident.ini (bundled)" : sluiceConfig.toString());
        j.put("modes", modes);
        return j;
    }
}
