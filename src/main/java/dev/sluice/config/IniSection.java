package dev.sluice.config;

import java.nio.file.Path;

// One "[name]" header line of an INI file (name lower-cased), kept so sections can be checked and cited.
record IniSection(String name, Path file, int line) {
}
