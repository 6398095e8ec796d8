package dev.sluice.cli;

import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.ConfigProblem;
import dev.sluice.config.EffectiveLimits;
import dev.sluice.config.SluiceConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** `sluice check-config FILE`: validates a config and explains the connection limits it implies. */
@Command(name = "check-config", description = "Validate a pgbouncer.ini/sluice.ini and print the effective limits.")
final class CheckConfigCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONFIG", description = "pgbouncer.ini or sluice.ini")
    Path config;

    @Override
    public Integer call() {
        SluiceConfig cfg;
        try {
            cfg = ConfigLoader.load(config);
        } catch (ConfigException e) {
            System.err.println("sluice: " + config + " has " + e.problems().size() + " error(s):");
            for (ConfigProblem p : e.problems()) {
                System.err.println("  " + p);
            }
            return 2;
        }
        for (ConfigProblem w : cfg.warnings()) {
            System.err.println("warning: " + w);
        }
        System.out.println(config + ": OK");
        System.out.println(EffectiveLimits.describe(cfg));
        System.out.println(dev.sluice.observe.Observability.describe(cfg));
        System.out.println(cfg.settings().tls().describe());
        return 0;
    }
}
