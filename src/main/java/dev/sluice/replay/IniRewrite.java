package dev.sluice.replay;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Points a pgbouncer.ini-style config at the replay's own PostgreSQL and a free loopback port, leaving
 * every other line as written: [databases] gets one entry for the replay database, listen_addr and
 * listen_port are replaced, and relative auth_file / %include paths are made absolute (the copy lives
 * in a temp dir).
 */
final class IniRewrite {
    private static final Pattern SECTION = Pattern.compile("^\\s*\\[([^\\]]+)\\]\\s*$");
    private static final Pattern KEY = Pattern.compile("^\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*=\\s*(.*)$");

    private IniRewrite() {}

    static String forReplay(String ini, Path baseDir, int pgPort) {
        List<String> out = new ArrayList<>();
        String section = "";
        boolean sawDatabases = false;
        boolean sawSettings = false;
        String dbLine = ReplayDatabase.DB + " = host=127.0.0.1 port=" + pgPort + " dbname=" + ReplayDatabase.DB;
        for (String line : ini.split("\n", -1)) {
            Matcher s = SECTION.matcher(line);
            if (s.matches()) {
                section = s.group(1).strip().toLowerCase(Locale.ROOT);
                out.add(line);
                if (section.equals("databases")) {
                    sawDatabases = true;
                    out.add("; [replay] the replay's embedded PostgreSQL replaces the entries below");
                    out.add(dbLine);
                } else if (section.equals("sluice") || section.equals("pgbouncer")) {
                    sawSettings = true;
                    out.add("; [replay] a free loopback port replaces listen_addr/listen_port");
                    out.add("listen_addr = 127.0.0.1");
                    out.add("listen_port = 0");
                }
                continue;
            }
            String trimmed = line.strip();
            if (trimmed.toLowerCase(Locale.ROOT).startsWith("%include ") && baseDir != null) {
                Path p = Path.of(trimmed.substring(9).strip());
                out.add("%include " + (p.isAbsolute() ? p : baseDir.resolve(p)));
                continue;
            }
            Matcher k = KEY.matcher(line);
            if (k.matches() && !trimmed.startsWith(";") && !trimmed.startsWith("#")) {
                String key = k.group(1).toLowerCase(Locale.ROOT);
                if (section.equals("databases")) {
                    out.add("; " + line);
                    continue;
                }
                if ((section.equals("sluice") || section.equals("pgbouncer"))
                        && (key.equals("listen_addr") || key.equals("listen_port"))) {
                    out.add("; " + line);
                    continue;
                }
                if (key.equals("auth_file") && baseDir != null) {
                    Path p = Path.of(k.group(2).strip());
                    out.add("auth_file = " + (p.isAbsolute() ? p : baseDir.resolve(p)));
                    continue;
                }
            }
            out.add(line);
        }
        if (!sawDatabases) {
            out.add("[databases]");
            out.add(dbLine);
        }
        if (!sawSettings) {
            out.add("[sluice]");
            out.add("listen_addr = 127.0.0.1");
            out.add("listen_port = 0");
        }
        return String.join("\n", out) + "\n";
    }
}
