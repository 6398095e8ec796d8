package dev.sluice.config;

import java.util.List;
import java.util.stream.Collectors;

// Thrown when the configuration cannot be used; carries every error found, not just the first.
public final class ConfigException extends Exception {

    private final List<ConfigProblem> problems;
    private final List<ConfigProblem> warnings;

    public ConfigException(List<ConfigProblem> problems) {
        this(problems, List.of());
    }

    /** Warnings are kept too, so `sluice check-config` can show them next to the errors. */
    public ConfigException(List<ConfigProblem> problems, List<ConfigProblem> warnings) {
        super(render(problems));
        this.problems = List.copyOf(problems);
        this.warnings = List.copyOf(warnings);
    }

    /** The errors, in the order they appear in the files. */
    public List<ConfigProblem> problems() {
        return problems;
    }

    /** Warnings found while loading, in file order. */
    public List<ConfigProblem> warnings() {
        return warnings;
    }

    private static String render(List<ConfigProblem> problems) {
        return problems.stream().map(ConfigProblem::toString).collect(Collectors.joining("\n"));
    }
}
