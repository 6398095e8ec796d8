package dev.sluice.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Format (PgBouncer's userlist.txt): one user per line, {@code "user" "secret"}, fields in double quotes
 * with "" standing for a quote; anything after the second field is ignored. Lines starting with ';' or '#'
 * are comments. The secret is plain text, "md5" + 32 hex digits, or
 * "SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey"; a secret that starts like a SCRAM secret but is
 * malformed is an error, because treating it as a plain-text password would only fail later, obscurely.
 */
// Reads an auth_file (userlist.txt) into user -> secret, reporting every malformed line.
public final class AuthFileReader {

    private static final Pattern SCRAM =
            Pattern.compile("SCRAM-SHA-256\\$([0-9]+):([^$]+)\\$([^:]+):(.+)");

    private AuthFileReader() {
    }

    /** Reads {@code file}; every problem (with its line number) is in the exception. */
    public static Map<String, String> read(Path file) throws ConfigException {
        Problems problems = new Problems();
        Map<String, String> users = read(file, problems, null);
        if (problems.hasErrors()) {
            throw problems.toException();
        }
        return users;
    }

    /**
     * Reads into {@code problems}; a missing or unreadable file is reported at {@code setAt} (the
     * auth_file line) when given, so the user is pointed at the setting to fix.
     */
    static Map<String, String> read(Path file, Problems problems, IniEntry setAt) {
        String text;
        try {
            text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            reportUnreadable(file, problems, setAt, "does not exist; create it or fix the path");
            return Map.of();
        } catch (IOException e) {
            reportUnreadable(file, problems, setAt, "cannot be read (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()) + "); check the path and permissions");
            return Map.of();
        }
        problems.noteFile(file);
        warnIfOthersCanRead(file, problems);
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        Map<String, String> users = new LinkedHashMap<>();
        Map<String, Integer> firstLine = new HashMap<>();
        String[] lines = text.split("\r\n|\n|\r", -1);
        for (int i = 0; i < lines.length; i++) {
            int lineNo = i + 1;
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith(";") || line.startsWith("#")) {
                continue;
            }
            try {
                int[] pos = {0};
                String user = field(line, pos, "user name");
                String secret = field(line, pos, "password");
                if (user.isEmpty()) {
                    throw new IllegalArgumentException("the user name is empty");
                }
                checkSecret(secret);
                Integer earlier = firstLine.putIfAbsent(user, lineNo);
                if (earlier != null) {
                    problems.warn(file, lineNo, "user \"" + user + "\" is listed again (first at line " + earlier
                            + "); this later entry wins");
                }
                users.put(user, secret);
            } catch (IllegalArgumentException ex) {
                problems.error(file, lineNo, ex.getMessage() + "; each line should be \"user\" \"password\"");
            }
        }
        return users;
    }

    /** Reads one double-quoted field starting at or after pos[0] (skipping blanks); advances pos[0]. */
    private static String field(String line, int[] pos, String what) {
        int i = pos[0];
        while (i < line.length() && Character.isWhitespace(line.charAt(i))) {
            i++;
        }
        if (i >= line.length()) {
            throw new IllegalArgumentException("missing the " + what);
        }
        if (line.charAt(i) != '"') {
            throw new IllegalArgumentException("the " + what + " must be in double quotes");
        }
        StringBuilder out = new StringBuilder();
        i++;
        while (i < line.length()) {
            char c = line.charAt(i);
            if (c == '"') {
                if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    out.append('"');
                    i += 2;
                    continue;
                }
                pos[0] = i + 1;
                return out.toString();
            }
            out.append(c);
            i++;
        }
        throw new IllegalArgumentException("the " + what + " has no closing double quote (write \"\" for a quote inside)");
    }

    private static void checkSecret(String secret) {
        if (!secret.startsWith("SCRAM-SHA-256$")) {
            return;
        }
        Matcher m = SCRAM.matcher(secret);
        if (!m.matches()) {
            throw new IllegalArgumentException("malformed SCRAM secret; expected "
                    + "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>");
        }
        try {
            int iterations = Integer.parseInt(m.group(1));
            if (iterations < 1) {
                throw new IllegalArgumentException("the SCRAM iteration count must be at least 1");
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the SCRAM iteration count " + m.group(1) + " is too large");
        }
        String[] names = {"salt", "StoredKey", "ServerKey"};
        for (int g = 2; g <= 4; g++) {
            byte[] decoded;
            try {
                decoded = Base64.getDecoder().decode(m.group(g));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the SCRAM " + names[g - 2] + " is not valid base64");
            }
            if (g > 2 && decoded.length != 32) {
                throw new IllegalArgumentException("the SCRAM " + names[g - 2] + " must be 32 bytes (SHA-256), got "
                        + decoded.length);
            }
        }
    }

    /**
     * The file holds passwords or password-equivalent hashes: like ssh and libpq with key files, say so when
     * its group or other users have any access (it still loads: refusing would break a working PgBouncer
     * setup on upgrade). Nothing to check on file systems without POSIX permissions.
     */
    private static void warnIfOthersCanRead(Path file, Problems problems) {
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException | IOException e) {
            return;
        }
        Set<PosixFilePermission> open = EnumSet.of(PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
                PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
                PosixFilePermission.OTHERS_EXECUTE);
        open.retainAll(perms);
        if (!open.isEmpty()) {
            problems.warn(file, 0, "auth file is accessible by group or others (mode "
                    + PosixFilePermissions.toString(perms) + ") but holds passwords; restrict it with chmod 600 "
                    + file + " (owned by the user Sluice runs as)");
        }
    }

    private static void reportUnreadable(Path file, Problems problems, IniEntry setAt, String what) {
        if (setAt != null) {
            problems.error(setAt, "auth_file " + file + " " + what);
        } else {
            problems.error(file, 0, "auth file " + what);
        }
    }
}
