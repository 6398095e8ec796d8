package dev.sluice.cli;

import dev.sluice.replay.Durations;
import dev.sluice.replay.HtmlReport;
import dev.sluice.replay.Json;
import dev.sluice.replay.Replay;
import dev.sluice.replay.ReplayReport;
import dev.sluice.replay.Scenario;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `sluice replay`: replays the 2025-02-27 incident (API + leaking job + load) against a real PostgreSQL,
 * directly, through Sluice and through PgBouncer, and reports side by side.
 */
@Command(name = "replay", mixinStandardHelpOptions = true, description = {
        "Replay the 2025-02-27 incident against an embedded PostgreSQL: a real HTTP API under steady load and the"
                + " analytics job that leaks connections, once directly, once through Sluice (examples/sluice-incident.ini),"
                + " once through PgBouncer when it is installed. Prints a side-by-side table, writes JSON and HTML.",
        "Exit status: 0 Sluice met every expectation, 1 it did not (the report says which), 2 the replay could not run."})
final class ReplayCommand implements Callable<Integer> {
    @Option(names = "--scenario", paramLabel = "FILE", description = "A scenario file (see examples/replay/); default: the incident.")
    Path scenarioFile;

    @Option(names = "--duration", paramLabel = "DURATION",
            description = "Length of each mode's timeline (default 90s, or the scenario's); deploy and fix keep their place.")
    String duration;

    @Option(names = "--modes", paramLabel = "LIST", split = ",", description = "Which of direct,sluice,pgbouncer to run.")
    String[] modes;

    @Option(names = "--leak", paramLabel = "KIND", description = "idle (connections never closed) or transaction (left open).")
    String leak;

    @Option(names = "--sluice-config", paramLabel = "FILE", description = "Run Sluice with this config instead of the example.")
    Path sluiceConfig;

    @Option(names = "--json", paramLabel = "FILE", defaultValue = "sluice-replay.json",
            description = "Where to write the JSON report (default: ${DEFAULT-VALUE}).")
    Path json;

    @Option(names = "--html", paramLabel = "FILE", defaultValue = "sluice-replay.html",
            description = "Where to write the HTML report (default: ${DEFAULT-VALUE}).")
    Path html;

    @Option(names = "--log", paramLabel = "FILE", defaultValue = "sluice-replay.log",
            description = "Where Sluice's own log goes during the replay (default: ${DEFAULT-VALUE}).")
    Path log;

    @Option(names = "--no-progress", description = "Do not draw the progress bar.")
    boolean noProgress;

    @Override
    public Integer call() {
        Scenario scenario;
        try {
            scenario = scenarioFile != null ? Scenario.load(scenarioFile) : Scenario.incident();
            if (duration != null) {
                scenario = scenario.withDuration(Durations.parse(duration));
            }
            if (modes != null) {
                scenario = scenario.withModes(Arrays.stream(modes).map(String::strip).toList());
            }
            if (leak != null) {
                scenario = scenario.withLeak(leak);
            }
            if (sluiceConfig != null) {
                scenario = scenario.withSluiceConfig(sluiceConfig.toAbsolutePath());
            }
        } catch (Exception e) {
            System.err.println("sluice replay: " + e.getMessage());
            return 2;
        }
        Logs.toFile(log.toAbsolutePath());
        Replay.Outcome outcome;
        try {
            outcome = new Replay(scenario, System.err, !noProgress).run();
        } catch (Exception e) {
            System.err.println("sluice replay: could not run: " + e);
            return 2;
        }
        System.out.print(ReplayReport.table(outcome));
        try {
            Files.writeString(json, Json.write(ReplayReport.json(outcome)));
            Files.writeString(html, HtmlReport.render(outcome));
        } catch (Exception e) {
            System.err.println("sluice replay: could not write the report: " + e.getMessage());
            return 2;
        }
        System.out.println();
        System.out.println("  report: " + html.toAbsolutePath() + "   data: " + json.toAbsolutePath() + "   Sluice log: "
                + log.toAbsolutePath());
        return outcome.sluiceMetExpectations() ? 0 : 1;
    }
}
