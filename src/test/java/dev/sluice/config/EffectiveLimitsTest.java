package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

// The plain-words explanation of connection limits printed by `sluice check-config`.
class EffectiveLimitsTest {

    @TempDir
    Path dir;

    private ConfigFiles files;

    @BeforeEach
    void setUp() {
        files = new ConfigFiles(dir);
        files.userlist(); // alice, bob, carol
    }

    @Test
    void perDatabaseLimitsAndTheirSum() throws ConfigException {
        String text = EffectiveLimits.describe(files.load("""
                [databases]
                appdb = host=db1 pool_size=20 reserve_pool=5 max_db_connections=50
                reports = host=db1 dbname=reporting user=reporter pool_size=10
                plain = host=db2
                [pgbouncer]
                auth_file = userlist.txt
                default_pool_size = 15
                max_client_conn = 400
                """));

        assertThat(text).contains(
                "appdb: up to 20 server connections per user (pool_size=20 from [databases] appdb; "
                        + "default_pool_size=15), +5 reserve after 5s wait; capped at 50 for the whole database by "
                        + "max_db_connections from [databases] appdb",
                "-> at most 50 server connections (3 users in auth_file x 20+5 = 75, capped at 50)",
                "reports: one pool of up to 10 server connections, because every client is logged in as user 'reporter'",
                "-> at most 10 server connections (one pool of 10)",
                "plain: up to 15 server connections per user (default_pool_size=15)",
                "-> at most 45 server connections (3 users in auth_file x 15 = 45)",
                "Total server connections can reach 105 (= sum of per-database limits: appdb 50 + reports 10 + plain 45)",
                "PostgreSQL's max_connections must be above 105",
                "max_client_conn=400 clients",
                "the 3 users in auth_file with default_pool_size=15 can open up to 45 server connections to each database");
    }

    @Test
    void threeUsersTimesPoolSizeWithoutCaps() throws ConfigException {
        String text = EffectiveLimits.describe(files.load("""
                [databases]
                appdb =
                [pgbouncer]
                auth_file = userlist.txt
                """));
        assertThat(text).contains("-> at most 60 server connections (3 users in auth_file x 20 = 60)",
                "Total server connections can reach 60 (= sum of per-database limits: appdb 60)");
    }

    @Test
    void fallbackDatabaseMakesTheTotalUnbounded() throws ConfigException {
        String text = EffectiveLimits.describe(files.load("""
                [databases]
                appdb = pool_size=10
                * = host=db
                [pgbouncer]
                auth_file = userlist.txt
                """));
        assertThat(text).contains(
                "* (any other database name): up to 20 server connections per user for each database name clients ask for",
                "the number of database names is not limited",
                "unbounded: total server connections have no limit in this configuration: the * fallback entry opens "
                        + "new pools for every database name a client asks for; max_user_connections=0 leaves some "
                        + "users uncapped")
                .doesNotContain("Total server connections can reach");
    }

    @Test
    void perUserCapsBoundTheTotalEvenWithFallback() throws ConfigException {
        String text = EffectiveLimits.describe(files.load("""
                [databases]
                * = host=db
                [users]
                alice = max_user_connections=4
                [pgbouncer]
                auth_file = userlist.txt
                max_user_connections = 10
                """));
        assertThat(text).contains(
                "max_user_connections=10: each user can hold at most 10 server connections across all databases",
                "alice: at most 4 server connections across all databases (max_user_connections from [users])",
                "Total server connections can reach 24 (= sum of per-user caps: alice 4 + bob 10 + carol 10; "
                        + "the per-database limits alone would allow any number)");
    }

    @Test
    void reserveWithoutTimeoutIsExplainedAsUnused() throws ConfigException {
        String text = EffectiveLimits.describe(files.load("""
                [databases]
                appdb = pool_size=8 reserve_pool_size=4
                [pgbouncer]
                auth_file = userlist.txt
                reserve_pool_timeout = 0
                """));
        assertThat(text).contains("reserve_pool_size=4 is unused because reserve_pool_timeout=0",
                "(3 users in auth_file x 8 = 24)");
    }

    @Test
    void unknownUsersAndNoCapIsUnbounded() throws ConfigException {
        String text = EffectiveLimits.describe(files.load("""
                [databases]
                appdb = host=db
                capped = host=db max_db_connections=30
                [pgbouncer]
                auth_type = trust
                pool_mode = transaction
                query_wait_timeout = 0
                """));
        assertThat(text).contains(
                "No auth_file users are known",
                "capped: up to 20 server connections per user (default_pool_size=20); capped at 50".replace("50", "30"),
                "-> at most 30 server connections (users are not known, so only max_db_connections bounds it)",
                "unbounded: total server connections have no limit in this configuration: appdb: users are not known "
                        + "and max_db_connections=0",
                "waits for a server connection for as long as it takes (query_wait_timeout=0)",
                "In transaction mode")
                .doesNotContain("In session mode");
    }
}
