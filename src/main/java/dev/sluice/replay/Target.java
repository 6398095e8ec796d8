package dev.sluice.replay;

import dev.sluice.server.SluiceServer;

/** Where the API and the job connect in one mode: PostgreSQL itself, Sluice, or PgBouncer. */
interface Target extends AutoCloseable {
    String mode();

    /** JDBC URL of the replay's database as the API and the job reach it in this mode. */
    String jdbcUrl();

    /** The Sluice under test, or null. */
    default SluiceServer sluice() {
        return null;
    }

    /** One line for the report: what ran, with which limits. */
    String describe();

    @Override
    void close();

    /** Straight to PostgreSQL, as before the incident's fixes. */
    record Direct(int pgPort, int maxConnections) implements Target {
        @Override
        public String mode() {
            return "direct";
        }

        @Override
        public String jdbcUrl() {
            return ReplayDatabase.url(pgPort, ReplayDatabase.DB);
        }

        @Override
        public String describe() {
            return "API and job connect straight to PostgreSQL (max_connections=" + maxConnections + ")";
        }

        @Override
        public void close() {}
    }
}
