package dev.sluice.config;

import java.nio.file.Path;

// One error or warning about the configuration, tied to the file and line it comes from.
public record ConfigProblem(Path file, int line, String message) {

    /**
     * "file:line: message", the form editors and terminals turn into links. Line 0 means the problem
     * concerns the file as a whole (e.g. it cannot be read), and is printed as "file: message".
     */
    @Override
    public String toString() {
        return line > 0 ? file + ":" + line + ": " + message : file + ": " + message;
    }
}
