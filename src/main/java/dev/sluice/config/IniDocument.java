package dev.sluice.config;

import java.util.List;

// The headers and entries of an INI file and everything it %includes, in reading order.
record IniDocument(List<IniSection> sections, List<IniEntry> entries) {
}
