package dev.sluice.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Syntax follows PgBouncer: ';' and '#' start a comment only at the beginning of a line (later on the line
 * they are part of the value); names may be SQL-quoted ("my-db" = ...); "%include FILE" is processed in
 * place, so the section in force carries into and out of the included file. Unlike PgBouncer (which uses
 * the working directory), a relative include path is taken relative to the including file, so a config
 * tree behaves the same wherever Sluice is started from.
 */
// Reads pgbouncer.ini-style files, following %include, into section-tagged entries; reports syntax errors.
final class IniReader {

    private final Problems problems;
    private final List<IniSection> sections = new ArrayList<>();
    private final List<IniEntry> entries = new ArrayList<>();
    /** Real paths of the files being read, outermost first; a file already here is an include cycle. */
    private final List<Path> includeChain = new ArrayList<>();
    private String section;

    private IniReader(Problems problems) {
        this.problems = problems;
    }

    /** Empty when the top-level file itself cannot be read (already reported): nothing else is worth checking. */
    static Optional<IniDocument> read(Path file, Problems problems) {
        IniReader reader = new IniReader(problems);
        if (!reader.readFile(file, null, 0)) {
            return Optional.empty();
        }
        return Optional.of(new IniDocument(List.copyOf(reader.sections), List.copyOf(reader.entries)));
    }

    /**
     * Reads one file; {@code includedFrom}/{@code includeLine} locate the %include, or are null/0 for the
     * top. Returns false when the file could not be read at all.
     */
    private boolean readFile(Path file, Path includedFrom, int includeLine) {
        Path errorFile = includedFrom != null ? includedFrom : file;
        String what = includedFrom != null ? "included file " + file : "config file " + file;
        Path real;
        byte[] bytes;
        try {
            real = file.toRealPath();
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            problems.error(errorFile, includeLine, what + " does not exist; check the path"
                    + (includedFrom != null ? " (relative paths are taken from the including file's directory)" : ""));
            return false;
        } catch (IOException e) {
            problems.error(errorFile, includeLine, "cannot read " + what + ": " + describe(e));
            return false;
        }
        if (includeChain.contains(real)) {
            String chain = includeChain.subList(includeChain.indexOf(real), includeChain.size()).stream()
                    .map(Path::toString).collect(Collectors.joining(" -> "));
            problems.error(errorFile, includeLine, "%include cycle: " + chain + " -> " + real
                    + "; remove one of these %include lines");
            return false;
        }
        includeChain.add(real);
        problems.noteFile(file);
        try {
            // Decoding leniently: a stray Latin-1 byte in a comment should not stop the proxy from starting.
            String text = new String(bytes, StandardCharsets.UTF_8);
            if (text.startsWith("\uFEFF")) {
                text = text.substring(1);
            }
            String[] lines = text.split("\r\n|\n|\r", -1);
            for (int i = 0; i < lines.length; i++) {
                readLine(file, i + 1, lines[i].strip());
            }
        } finally {
            includeChain.remove(includeChain.size() - 1);
        }
        return true;
    }

    private void readLine(Path file, int lineNo, String line) {
        if (line.isEmpty() || line.startsWith(";") || line.startsWith("#")) {
            return;
        }
        if (line.startsWith("%")) {
            readDirective(file, lineNo, line);
        } else if (line.startsWith("[")) {
            readHeader(file, lineNo, line);
        } else {
            readEntry(file, lineNo, line);
        }
    }

    private void readDirective(Path file, int lineNo, String line) {
        String[] parts = line.split("\\s+", 2);
        if (!parts[0].equalsIgnoreCase("%include")) {
            problems.error(file, lineNo, "unknown directive " + parts[0] + "; only %include FILE is supported");
            return;
        }
        String target = parts.length > 1 ? Values.unquote(parts[1].strip()) : "";
        if (target.isEmpty()) {
            problems.error(file, lineNo, "%include needs a file name, e.g. %include databases.ini");
            return;
        }
        Path included;
        try {
            included = Path.of(target);
        } catch (InvalidPathException e) {
            problems.error(file, lineNo, "%include " + target + ": not a valid file name (" + e.getReason() + ")");
            return;
        }
        if (!included.isAbsolute() && file.getParent() != null) {
            included = file.getParent().resolve(included);
        }
        readFile(included, file, lineNo);
    }

    private void readHeader(Path file, int lineNo, String line) {
        if (!line.endsWith("]") || line.length() < 3) {
            problems.error(file, lineNo, "malformed section header " + line + "; write it as [name]");
            // Entries until the next header are skipped: guessing their section would only add noise.
            section = "";
            return;
        }
        section = line.substring(1, line.length() - 1).strip().toLowerCase(Locale.ROOT);
        sections.add(new IniSection(section, file, lineNo));
    }

    private void readEntry(Path file, int lineNo, String line) {
        String key;
        String rest;
        if (line.startsWith("\"")) {
            // SQL identifier quoting, as PgBouncer documents for database names: "" is one quote.
            StringBuilder name = new StringBuilder();
            int i = 1;
            boolean closed = false;
            while (i < line.length()) {
                char c = line.charAt(i);
                if (c == '"') {
                    if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        name.append('"');
                        i += 2;
                        continue;
                    }
                    closed = true;
                    i++;
                    break;
                }
                name.append(c);
                i++;
            }
            if (!closed) {
                problems.error(file, lineNo, "unterminated quoted name " + line + "; close it with \"");
                return;
            }
            key = name.toString();
            rest = line.substring(i).strip();
            if (!rest.startsWith("=")) {
                problems.error(file, lineNo, "expected '=' after the name \"" + key + "\"");
                return;
            }
        } else {
            int eq = line.indexOf('=');
            if (eq < 0) {
                problems.error(file, lineNo, "expected 'name = value' but found " + line
                        + " (comments must start the line with ; or #)");
                return;
            }
            key = line.substring(0, eq).strip();
            rest = line.substring(eq);
        }
        if (key.isEmpty()) {
            problems.error(file, lineNo, "missing name before '=' in " + line);
            return;
        }
        entries.add(new IniEntry(section, key, rest.substring(1).strip(), file, lineNo));
    }

    private static String describe(IOException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName()
                : e.getClass().getSimpleName() + " " + e.getMessage();
    }
}
