package dev.sluice.admin;

import java.util.List;

/**
 * The outcome of RELOAD or SIGHUP.
 *
 * @param applied false when the file had errors and the running configuration was kept
 * @param errors  every problem, as "file:line: message"
 * @param notes   what changed or could not change without a restart, and the file's warnings
 */
public record ReloadResult(boolean applied, List<String> errors, List<String> notes) {
    public ReloadResult {
        errors = List.copyOf(errors);
        notes = List.copyOf(notes);
    }
}
