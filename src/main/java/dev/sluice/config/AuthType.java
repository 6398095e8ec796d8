package dev.sluice.config;

import java.util.Optional;

// How clients prove who they are, spelled as PgBouncer's auth_type words.
public enum AuthType {
    TRUST("trust"),
    ANY("any"),
    PLAIN("plain"),
    MD5("md5"),
    SCRAM_SHA_256("scram-sha-256"),
    CERT("cert"),
    HBA("hba"),
    PAM("pam");

    private final String configWord;

    AuthType(String configWord) {
        this.configWord = configWord;
    }

    /** The word used for this type in pgbouncer.ini, e.g. "scram-sha-256". */
    public String configWord() {
        return configWord;
    }

    /** True for the types that check a password against auth_file, and so cannot work without one. */
    public boolean needsAuthFile() {
        return this == PLAIN || this == MD5 || this == SCRAM_SHA_256;
    }

    /** Parses a pgbouncer.ini auth_type word, ignoring case and surrounding blanks. */
    public static Optional<AuthType> fromConfigWord(String word) {
        if (word == null) {
            return Optional.empty();
        }
        for (AuthType type : values()) {
            if (type.configWord.equalsIgnoreCase(word.strip())) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
