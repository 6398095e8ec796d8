package dev.sluice.pool;

/** Identifies a pool: the database name clients use and the user Sluice logs in to PostgreSQL as. */
public record PoolKey(String database, String user) {
    @Override
    public String toString() {
        return database + "/" + user;
    }
}
