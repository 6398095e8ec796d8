package dev.sluice.config;

import java.nio.file.Path;

// One "key = value" line kept unparsed for a later feature ([workloads], [alerts]), with where it came from.
public record RawEntry(String key, String value, Path file, int line) {

    /** "file:line", for messages about this entry. */
    public String source() {
        return file + ":" + line;
    }
}
