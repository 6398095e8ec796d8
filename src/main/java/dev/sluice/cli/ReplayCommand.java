package dev.sluice.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** `sluice replay`: placeholder while the replay is built. */
@Command(name = "replay", description = "Replay the 2025-02-27 incident with and without Sluice.")
final class ReplayCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        return 2;
    }
}
