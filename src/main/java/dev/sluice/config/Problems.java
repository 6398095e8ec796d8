package dev.sluice.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

// Collects errors and warnings during one load, so every problem is reported together.
final class Problems {

    private final List<ConfigProblem> errors = new ArrayList<>();
    private final List<ConfigProblem> warnings = new ArrayList<>();
    /** Files in the order they were read; problems are reported in this order, then by line. */
    private final List<Path> fileOrder = new ArrayList<>();

    /** Records that {@code file} was read, so its problems sort after those of earlier files. */
    void noteFile(Path file) {
        if (!fileOrder.contains(file)) {
            fileOrder.add(file);
        }
    }

    void error(Path file, int line, String message) {
        errors.add(new ConfigProblem(file, line, message));
    }

    void error(IniEntry at, String message) {
        error(at.file(), at.line(), message);
    }

    void warn(Path file, int line, String message) {
        warnings.add(new ConfigProblem(file, line, message));
    }

    void warn(IniEntry at, String message) {
        warn(at.file(), at.line(), message);
    }

    boolean hasErrors() {
        return !errors.isEmpty();
    }

    int errorCount() {
        return errors.size();
    }

    List<ConfigProblem> warnings() {
        return sorted(warnings);
    }

    ConfigException toException() {
        return new ConfigException(sorted(errors), sorted(warnings));
    }

    /**
     * Problems are found in passes (syntax, then sections, then values, then cross-checks); sorting them
     * into reading order lets the user walk through a file top to bottom. The sort is stable, so problems
     * on the same line keep the order they were found in.
     */
    private List<ConfigProblem> sorted(List<ConfigProblem> problems) {
        List<ConfigProblem> out = new ArrayList<>(problems);
        out.sort(Comparator.comparingInt((ConfigProblem p) -> fileRank(p.file())).thenComparingInt(ConfigProblem::line));
        return List.copyOf(out);
    }

    private int fileRank(Path file) {
        int i = fileOrder.indexOf(file);
        return i < 0 ? Integer.MAX_VALUE : i;
    }
}
