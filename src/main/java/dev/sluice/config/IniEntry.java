package dev.sluice.config;

import java.nio.file.Path;

// One "key = value" line of an INI file, tagged with its section and origin.
/**
 * @param section lower-cased section name; null before the first header; "" after a malformed header
 * @param key     as written (quotes removed from a quoted name), surrounding blanks stripped
 * @param value   as written after '=', surrounding blanks stripped, quotes not removed
 */
record IniEntry(String section, String key, String value, Path file, int line) {

    /** "file:line", used as the source of database and user entries. */
    String source() {
        return file + ":" + line;
    }
}
