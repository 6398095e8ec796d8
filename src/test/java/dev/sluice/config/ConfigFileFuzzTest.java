package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the config reader: a pgbouncer.ini through {@link ConfigLoader#load} (IniReader, the settings,
 * [databases], [users], [workloads] and [alerts] parsers, the cross-checks) and a userlist.txt through
 * {@link AuthFileReader#read}. The files are written to a directory of their own; the ini may name the
 * userlist as auth_file or %include it.
 * Properties: the only failure is a {@link ConfigException}, and each of its problems names one of the two
 * files with a line number inside it (or 0 for the whole file); a config that loads has a SHOW CONFIG
 * table. No allocation bound here, unlike the wire targets: a config file has no length fields, it is read
 * whole and its size bounds the rest (and in fuzzing mode Jazzer's own regex hooks allocate on this thread).
 * Input: the ini text, a NUL byte, the userlist text.
 * Seeds: src/test/resources/dev/sluice/config/ConfigFileFuzzTestInputs.
 */
class ConfigFileFuzzTest {
    private static Path dir;

    @BeforeAll
    static void makeDirectory() throws IOException {
        dir = Files.createTempDirectory("sluice-config-fuzz");
    }

    @AfterAll
    static void removeDirectory() throws IOException {
        for (Path p : Files.list(dir).toList()) {
            Files.deleteIfExists(p);
        }
        Files.deleteIfExists(dir);
    }

    @FuzzTest(maxDuration = "30s")
    void configFiles(byte[] input) {
        parse(input);
    }

    private static void parse(byte[] input) {
        int split = 0;
        while (split < input.length && input[split] != 0) {
            split++;
        }
        byte[] ini = java.util.Arrays.copyOfRange(input, 0, split);
        byte[] userlist = split < input.length ? java.util.Arrays.copyOfRange(input, split + 1, input.length) : new byte[0];
        Path iniFile = write("pgbouncer.ini", ini);
        Path userlistFile = write("userlist.txt", userlist);

        try {
            SluiceConfig config = ConfigLoader.load(iniFile);
            assertThat(SettingsTable.rows(config.settings())).isNotEmpty();
        } catch (ConfigException e) {
            assertProblemsPointIntoFiles(e, Map.of(iniFile, ini, userlistFile, userlist));
        }
        try {
            AuthFileReader.read(userlistFile);
        } catch (ConfigException e) {
            assertProblemsPointIntoFiles(e, Map.of(userlistFile, userlist));
        }
    }

    private static void assertProblemsPointIntoFiles(ConfigException e, Map<Path, byte[]> files) {
        assertThat(e.problems()).isNotEmpty();
        for (ConfigProblem p : e.problems()) {
            assertThat(p.message()).isNotBlank();
            byte[] text = files.get(p.file());
            if (text == null) {
                continue; // a file the ini named itself (an %include or auth_file elsewhere): not ours to count
            }
            assertThat(p.line()).as("line of %s", p).isBetween(0, lines(text));
        }
    }

    private static int lines(byte[] text) {
        return new String(text, java.nio.charset.StandardCharsets.UTF_8).split("\r\n|\n|\r", -1).length;
    }

    private static Path write(String name, byte[] bytes) {
        try {
            return Files.write(dir.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
