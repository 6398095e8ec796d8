package dev.sluice.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

// Test helper: writes config files into a temporary directory and loads them.
final class ConfigFiles {

    private final Path dir;

    ConfigFiles(Path dir) {
        this.dir = dir;
    }

    /** Writes {@code text} to {@code name} (creating parent directories) and returns the path. */
    Path write(String name, String text) {
        Path file = dir.resolve(name);
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, text, StandardCharsets.UTF_8);
            // Private, as an operator keeps an auth_file: a group/other-readable one draws a warning of its own.
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** A userlist.txt with alice, bob and carol, each with a plain-text password. */
    Path userlist() {
        return write("userlist.txt", "\"alice\" \"a-secret\"\n\"bob\" \"b-secret\"\n\"carol\" \"c-secret\"\n");
    }

    /** Writes pgbouncer.ini with {@code text} and loads it. */
    SluiceConfig load(String text) throws ConfigException {
        return ConfigLoader.load(write("pgbouncer.ini", text));
    }

    /** Writes pgbouncer.ini with {@code text}, expects loading to fail, and returns the exception. */
    ConfigException fail(String text) {
        Path ini = write("pgbouncer.ini", text);
        try {
            SluiceConfig cfg = ConfigLoader.load(ini);
            throw new AssertionError("expected the config to be rejected, but it loaded: " + cfg);
        } catch (ConfigException e) {
            return e;
        }
    }

    Path path(String name) {
        return dir.resolve(name);
    }
}
