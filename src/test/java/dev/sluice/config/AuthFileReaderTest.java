package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

// Reading userlist.txt: quoting, comments, secret formats, and errors with line numbers.
class AuthFileReaderTest {

    @TempDir
    Path dir;

    private static final String SCRAM = "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0$"
            + "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

    @Test
    void readsUsersSecretsCommentsAndEscapedQuotes() throws ConfigException {
        Path file = new ConfigFiles(dir).write("userlist.txt", """
                ;; generated from pg_authid
                # another comment style

                "alice" "md545f2603610af569b6155c45067268c6b"
                  "bob" "he said ""hi""\"   trailing fields are ignored
                "o""brien" "plain text with spaces"
                "scram_user" "%s"
                "nopass" ""
                """.formatted(SCRAM));

        Map<String, String> users = AuthFileReader.read(file);

        assertThat(users).containsExactly(
                Map.entry("alice", "md545f2603610af569b6155c45067268c6b"),
                Map.entry("bob", "he said \"hi\""),
                Map.entry("o\"brien", "plain text with spaces"),
                Map.entry("scram_user", SCRAM),
                Map.entry("nopass", ""));
    }

    @Test
    void reportsEveryBadLineWithItsNumber() {
        Path file = new ConfigFiles(dir).write("userlist.txt", """
                "alice" "fine"
                bob "secret"
                "carol"
                "dave" "no end
                "" "empty name"
                "eve" "SCRAM-SHA-256$4096:salt"
                "frank" secret
                """);

        assertThatThrownBy(() -> AuthFileReader.read(file))
                .isInstanceOf(ConfigException.class)
                .satisfies(t -> {
                    ConfigException e = (ConfigException) t;
                    assertThat(e.problems()).extracting(ConfigProblem::line).containsExactly(2, 3, 4, 5, 6, 7);
                    assertThat(e.problems()).allSatisfy(p -> assertThat(p.file()).isEqualTo(file));
                    assertThat(e.getMessage()).contains(
                            file + ":2: the user name must be in double quotes; each line should be \"user\" \"password\"",
                            file + ":3: missing the password",
                            file + ":4: the password has no closing double quote",
                            file + ":5: the user name is empty",
                            file + ":6: malformed SCRAM secret",
                            file + ":7: the password must be in double quotes");
                });
    }

    @Test
    void scramKeysMustDecodeTo32Bytes() {
        Path file = new ConfigFiles(dir).write("userlist.txt",
                "\"u\" \"SCRAM-SHA-256$4096:c2FsdA==$c2hvcnQ=:c2hvcnQ=\"\n");
        assertThatThrownBy(() -> AuthFileReader.read(file))
                .hasMessage(file + ":1: the SCRAM StoredKey must be 32 bytes (SHA-256), got 5; "
                        + "each line should be \"user\" \"password\"");
    }

    @Test
    void md5LookalikeIsJustAPlainPassword() throws ConfigException {
        Path file = new ConfigFiles(dir).write("userlist.txt", "\"u\" \"md5notahash\"\n");
        assertThat(AuthFileReader.read(file)).containsExactly(Map.entry("u", "md5notahash"));
    }

    @Test
    void missingFile() {
        Path file = dir.resolve("nope.txt");
        assertThatThrownBy(() -> AuthFileReader.read(file))
                .hasMessage(file + ": auth file does not exist; create it or fix the path");
    }

    @Test
    void duplicateUserWarnsThroughTheLoaderAndLaterWins() throws ConfigException {
        ConfigFiles files = new ConfigFiles(dir);
        Path users = files.write("userlist.txt", "\"alice\" \"old\"\n\"alice\" \"new\"\n");
        SluiceConfig cfg = files.load("""
                [databases]
                appdb =
                [pgbouncer]
                auth_file = userlist.txt
                """);
        assertThat(cfg.authFile()).containsExactly(Map.entry("alice", "new"));
        assertThat(cfg.warnings()).extracting(ConfigProblem::toString)
                .containsExactly(users + ":2: user \"alice\" is listed again (first at line 1); this later entry wins");
    }

    @Test
    void authFileReadableByOthersGetsAWarningAndAPrivateOneDoesNot() throws Exception {
        ConfigFiles files = new ConfigFiles(dir);
        Path userlist = files.userlist();
        String ini = "[databases]\nappdb = host=127.0.0.1\n[pgbouncer]\nauth_file = userlist.txt\n";

        java.nio.file.Files.setPosixFilePermissions(userlist, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(files.load(ini).warnings()).anySatisfy(w -> {
            assertThat(w.file()).isEqualTo(userlist);
            assertThat(w.message()).contains("accessible by group or others (mode rw-r--r--)")
                    .contains("chmod 600 " + userlist);
        });

        java.nio.file.Files.setPosixFilePermissions(userlist, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        assertThat(files.load(ini).warnings()).noneSatisfy(w -> assertThat(w.message()).contains("group or others"));
    }
}
