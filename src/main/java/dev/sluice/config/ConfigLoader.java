package dev.sluice.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Sections: [databases], [users], [pgbouncer] (alias [sluice]) are parsed; [workloads] and [alerts] are
 * kept raw for later features; PgBouncer's [peers] is recognised and ignored with a warning. Any other
 * section, or an entry before the first section, is an error. Every problem in every file is collected
 * and thrown together.
 */
// Loads a pgbouncer.ini (with its %includes and auth_file) into a SluiceConfig, or reports all that is wrong.
public final class ConfigLoader {

    private static final Set<String> KNOWN_SECTIONS =
            Set.of("databases", "users", "pgbouncer", "sluice", "workloads", "alerts", "peers");

    private ConfigLoader() {
    }

    public static SluiceConfig load(Path ini) throws ConfigException {
        Problems problems = new Problems();
        IniDocument doc = IniReader.read(ini, problems).orElse(null);
        if (doc == null) {
            throw problems.toException();
        }

        IniSection settingsHeader = null;
        for (IniSection section : doc.sections()) {
            if (!KNOWN_SECTIONS.contains(section.name())) {
                problems.error(section.file(), section.line(), "unknown section [" + section.name()
                        + "]; known sections are [databases], [users], [pgbouncer] (or [sluice]), [workloads], "
                        + "[alerts]; its entries are ignored");
            } else if (section.name().equals("peers")) {
                problems.warn(section.file(), section.line(), "section [peers] is not implemented by Sluice yet; "
                        + "its entries are ignored (cancel requests are not forwarded to peers)");
            } else if (settingsHeader == null && (section.name().equals("pgbouncer") || section.name().equals("sluice"))) {
                settingsHeader = section;
            }
        }

        SettingsParser settingsParser = new SettingsParser(problems);
        Map<String, DatabaseConfig> databases = new LinkedHashMap<>();
        Map<String, IniEntry> dbEntries = new LinkedHashMap<>();
        Map<String, UserConfig> users = new LinkedHashMap<>();
        Map<String, IniEntry> userEntries = new LinkedHashMap<>();
        Map<String, List<RawEntry>> extras = new LinkedHashMap<>();
        extras.put("workloads", new ArrayList<>());
        extras.put("alerts", new ArrayList<>());

        for (IniEntry e : doc.entries()) {
            if (e.section() == null) {
                problems.error(e, "'" + e.key() + " = ...' comes before any section header; put settings under "
                        + "[pgbouncer] and databases under [databases]");
                continue;
            }
            switch (e.section()) {
                case "pgbouncer", "sluice" -> settingsParser.apply(e);
                case "databases" -> DatabaseParser.parse(e, problems).ifPresent(db -> {
                    warnIfRedefined(problems, e, "[databases] " + db.name(), dbEntries.put(db.name(), e));
                    databases.put(db.name(), db);
                });
                case "users" -> UserParser.parse(e, problems).ifPresent(u -> {
                    warnIfRedefined(problems, e, "[users] " + u.name(), userEntries.put(u.name(), e));
                    users.put(u.name(), u);
                });
                case "workloads", "alerts" -> extras.get(e.section()).add(new RawEntry(e.key(), e.value(), e.file(), e.line()));
                default -> {
                    // [peers], unknown sections and lines after a malformed header: already reported once.
                }
            }
        }

        SettingsBuilder withTls = new SettingsBuilder(settingsParser.build());
        // The TLS files are read now, so RELOAD and check-config catch a bad certificate before any handshake.
        withTls.tls = TlsContexts.build(withTls.tls, settingsParser.setAt(), problems);
        Settings settings = withTls.build();
        Map<String, String> authFile = settings.authFile() == null ? Map.of()
                : AuthFileReader.read(settings.authFile(), problems, settingsParser.setAt().get("auth_file"));
        ConfigChecks.check(ini, settingsParser, settings, databases, dbEntries, settingsHeader, problems);
        BudgetTargets.check(ini, settingsParser, settings, databases, dbEntries, authFile, problems);
        WorkloadParser.parse(extras.get("workloads"), problems); // validated now; SluiceConfig.workloads() re-reads
        AlertsParser.parse(extras.get("alerts"), problems); // likewise SluiceConfig.alerts()

        if (problems.hasErrors()) {
            throw problems.toException();
        }
        return new SluiceConfig(ini, settings, databases, users, authFile, extras, problems.warnings());
    }

    private static void warnIfRedefined(Problems problems, IniEntry e, String what, IniEntry earlier) {
        if (earlier != null) {
            problems.warn(e, what + " is defined again (first at " + earlier.source() + "); this later entry wins");
        }
    }
}
