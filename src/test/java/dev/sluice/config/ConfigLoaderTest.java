package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

// Loading whole pgbouncer.ini files: what is accepted, what is warned about, what is refused and where.
class ConfigLoaderTest {

    @TempDir
    Path dir;

    private ConfigFiles files;

    @BeforeEach
    void setUp() {
        files = new ConfigFiles(dir);
    }

    /** A config in the shape of PgBouncer's documented example, comments and all. */
    private static final String REALISTIC_INI = """
            ;;;
            ;;; PgBouncer configuration for the shop
            ;;;

            ;; database name = connect string
            [databases]

            ;; the application database, with its own pool sizes
            appdb = host=10.0.0.5 port=5433 dbname=shop pool_size=30 reserve_pool=5 max_db_connections=50

            ;; redirect bardb to bazdb on localhost
            bardb = host=localhost dbname=bazdb

            ;; access to the destination database will go with a single user
            forcedb = host=localhost port=300 user=baz password=foo client_encoding=UNICODE datestyle=ISO

            ; reports run in session mode with a custom application name
            reports = host=/var/run/postgresql dbname=reporting pool_mode=session application_name='nightly reports'

            ;; fallback connect string
            * = host=10.0.0.6

            ;; per-user configuration
            [users]
            bob = pool_mode=session max_user_connections=10

            ;; Configuration section
            [pgbouncer]

            ;;; Administrative settings
            logfile = /var/log/pgbouncer/pgbouncer.log
            pidfile = /var/run/pgbouncer/pgbouncer.pid

            ;;; Where to wait for clients
            ; IP address or * which means all IPs
            listen_addr = *
            listen_port = 6432
            unix_socket_dir = /tmp

            ;;; Authentication settings
            auth_type = md5
            auth_file = userlist.txt

            ;;; Users allowed into database 'pgbouncer'
            admin_users = alice, postgres
            stats_users = stats, root

            ;;; Pooler personality questions
            pool_mode = transaction
            server_reset_query = DISCARD ALL
            ignore_startup_parameters = extra_float_digits

            ;;; Connection limits
            max_client_conn = 500
            default_pool_size = 25
            min_pool_size = 2
            reserve_pool_size = 3
            reserve_pool_timeout = 3
            max_db_connections = 0
            max_user_connections = 0

            ;;; Logging
            log_connections = 1
            log_disconnections = 0
            log_pooler_errors = 1

            ;;; Timeouts
            server_lifetime = 1800
            server_idle_timeout = 300
            server_connect_timeout = 15
            server_login_retry = 15
            query_timeout = 0
            query_wait_timeout = 60
            client_idle_timeout = 0
            client_login_timeout = 60
            idle_transaction_timeout = 30.5

            ;;; Low-level tuning options
            pkt_buf = 4096
            tcp_keepalive = 1
            """;

    @Test
    void realisticPgBouncerIniLoadsUnchanged() throws ConfigException {
        files.write("userlist.txt", """
                ;; users and their passwords
                "alice" "md545f2603610af569b6155c45067268c6b"
                "bob" "bob's ""quoted"" password"
                "stats" ""
                """);
        Path ini = files.write("pgbouncer.ini", REALISTIC_INI);

        SluiceConfig cfg = ConfigLoader.load(ini);

        Settings s = cfg.settings();
        assertThat(s.listenAddr()).isEqualTo("*");
        assertThat(s.listenPort()).isEqualTo(6432);
        assertThat(s.authType()).isEqualTo(AuthType.MD5);
        assertThat(s.authFile()).isEqualTo(dir.resolve("userlist.txt"));
        assertThat(s.poolMode()).isEqualTo(PoolMode.TRANSACTION);
        assertThat(s.maxClientConn()).isEqualTo(500);
        assertThat(s.defaultPoolSize()).isEqualTo(25);
        assertThat(s.minPoolSize()).isEqualTo(2);
        assertThat(s.reservePoolSize()).isEqualTo(3);
        assertThat(s.reservePoolTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(s.serverLifetime()).isEqualTo(Duration.ofSeconds(1800));
        assertThat(s.serverIdleTimeout()).isEqualTo(Duration.ofSeconds(300));
        assertThat(s.queryWaitTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(s.idleTransactionTimeout()).isEqualTo(Duration.ofMillis(30_500));
        assertThat(s.adminUsers()).containsExactly("alice", "postgres");
        assertThat(s.statsUsers()).containsExactly("stats", "root");
        assertThat(s.ignoreStartupParameters()).containsExactly("extra_float_digits");
        assertThat(s.logConnections()).isTrue();
        assertThat(s.logDisconnections()).isFalse();
        assertThat(s.serverResetQuery()).isEqualTo("DISCARD ALL");

        assertThat(cfg.databases()).containsOnlyKeys("appdb", "bardb", "forcedb", "reports", "*");
        assertThat(cfg.databases().keySet()).containsExactly("appdb", "bardb", "forcedb", "reports", "*");
        DatabaseConfig appdb = cfg.databases().get("appdb");
        assertThat(appdb.host()).isEqualTo("10.0.0.5");
        assertThat(appdb.port()).isEqualTo(5433);
        assertThat(appdb.dbname()).isEqualTo("shop");
        assertThat(appdb.poolSize()).isEqualTo(30);
        assertThat(appdb.reservePoolSize()).isEqualTo(5);
        assertThat(appdb.maxDbConnections()).isEqualTo(50);
        assertThat(appdb.minPoolSize()).isNull();
        assertThat(appdb.poolMode()).isNull();
        assertThat(appdb.source()).isEqualTo(ini + ":9");

        DatabaseConfig bardb = cfg.databases().get("bardb");
        assertThat(bardb.host()).isEqualTo("localhost");
        assertThat(bardb.port()).isEqualTo(5432);
        assertThat(bardb.dbname()).isEqualTo("bazdb");
        assertThat(bardb.user()).isNull();

        DatabaseConfig forcedb = cfg.databases().get("forcedb");
        assertThat(forcedb.dbname()).isEqualTo("forcedb");
        assertThat(forcedb.port()).isEqualTo(300);
        assertThat(forcedb.user()).isEqualTo("baz");
        assertThat(forcedb.password()).isEqualTo("foo");
        assertThat(forcedb.startupParameters())
                .containsExactly(Map.entry("client_encoding", "UNICODE"), Map.entry("DateStyle", "ISO"));

        DatabaseConfig reports = cfg.databases().get("reports");
        assertThat(reports.host()).isEqualTo("/var/run/postgresql");
        assertThat(reports.poolMode()).isEqualTo(PoolMode.SESSION);
        assertThat(reports.startupParameters()).containsExactly(Map.entry("application_name", "nightly reports"));

        DatabaseConfig fallback = cfg.databases().get("*");
        assertThat(fallback.host()).isEqualTo("10.0.0.6");
        assertThat(fallback.dbname()).isNull();

        assertThat(cfg.users()).containsOnlyKeys("bob");
        assertThat(cfg.users().get("bob").poolMode()).isEqualTo(PoolMode.SESSION);
        assertThat(cfg.users().get("bob").maxUserConnections()).isEqualTo(10);

        assertThat(cfg.authFile()).containsExactly(
                Map.entry("alice", "md545f2603610af569b6155c45067268c6b"),
                Map.entry("bob", "bob's \"quoted\" password"),
                Map.entry("stats", ""));

        // logfile and pidfile are set to real paths: Sluice says it ignores them. unix_socket_dir = /tmp,
        // pkt_buf = 4096, tcp_keepalive = 1 and log_pooler_errors = 1 are PgBouncer's defaults: no noise.
        assertThat(cfg.warnings()).extracting(ConfigProblem::toString).containsExactly(
                ini + ":31: setting logfile is not implemented by Sluice yet; ignored (Sluice logs to standard error)",
                ini + ":32: setting pidfile is not implemented by Sluice yet; ignored (run Sluice under a service manager instead)");
    }

    @Test
    void minimalConfigGetsDefaults() throws ConfigException {
        files.userlist();
        SluiceConfig cfg = files.load("""
                [databases]
                appdb = host=db.internal
                [pgbouncer]
                auth_file = userlist.txt
                """);

        Settings d = Settings.defaults();
        assertThat(cfg.settings()).isEqualTo(new Settings(d.listenAddr(), d.listenPort(), d.authType(),
                files.path("userlist.txt"), d.poolMode(), d.maxClientConn(), d.defaultPoolSize(), d.minPoolSize(),
                d.reservePoolSize(), d.reservePoolTimeout(), d.maxDbConnections(), d.maxUserConnections(),
                d.serverLifetime(), d.serverIdleTimeout(), d.serverConnectTimeout(), d.serverLoginRetry(),
                d.queryWaitTimeout(), d.queryTimeout(), d.clientIdleTimeout(), d.clientLoginTimeout(),
                d.idleTransactionTimeout(), d.serverResetQuery(), d.serverResetQueryAlways(), d.serverCheckQuery(),
                d.serverCheckDelay(), d.adminUsers(), d.statsUsers(), d.logConnections(), d.logDisconnections(),
                d.ignoreStartupParameters(), d.maxClientMessageSize(), d.maxStartupPacketSize(),
                d.maxServerMessageSize(), d.maxPreparedStatements(), d.leakIdleAge(), d.leakMinConnections(),
                d.leakWindow(), d.maxDbConnectionsAuto(), d.budgetHeadroom(), d.budgetCheckInterval(),
                d.budgetUser(), d.budgetPassword(), d.unixSocketDir(), d.statsPeriod(), d.shutdownWaitTimeout(),
                d.statsListen(), d.workerThreads(), d.tls(), d.pinOnSessionState(), d.loginGuard(), d.tcpKeepalive()));
        assertThat(d.listenAddr()).isEqualTo("127.0.0.1");
        assertThat(d.listenPort()).isEqualTo(6432);
        assertThat(d.authType()).isEqualTo(AuthType.MD5);
        assertThat(d.poolMode()).isEqualTo(PoolMode.SESSION);
        assertThat(d.maxClientConn()).isEqualTo(100);
        assertThat(d.defaultPoolSize()).isEqualTo(20);
        assertThat(d.reservePoolTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(d.serverLifetime()).isEqualTo(Duration.ofHours(1));
        assertThat(d.serverIdleTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(d.queryWaitTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(d.clientLoginTimeout()).isEqualTo(Duration.ofMinutes(1));
        assertThat(d.serverCheckQuery()).isEqualTo("select 1");
        assertThat(d.serverCheckDelay()).isEqualTo(Duration.ofSeconds(30));
        assertThat(d.maxClientMessageSize()).isEqualTo(1_073_741_823);
        assertThat(d.maxStartupPacketSize()).isEqualTo(10_000);
        assertThat(d.maxServerMessageSize()).isEqualTo(1_073_741_824L);

        DatabaseConfig appdb = cfg.databases().get("appdb");
        assertThat(appdb.port()).isEqualTo(5432);
        assertThat(appdb.dbname()).isEqualTo("appdb");
        assertThat(appdb.startupParameters()).isEmpty();
        assertThat(cfg.warnings()).isEmpty();
        assertThat(cfg.extraSections()).containsOnlyKeys("workloads", "alerts");
    }

    @Test
    void emptyDatabaseEntryUsesSluiceDefaultHost() throws ConfigException {
        SluiceConfig cfg = files.load("""
                [databases]
                foodb =
                [pgbouncer]
                auth_type = trust
                """);
        DatabaseConfig foodb = cfg.databases().get("foodb");
        assertThat(foodb.host()).isEqualTo("127.0.0.1");
        assertThat(foodb.port()).isEqualTo(5432);
        assertThat(foodb.dbname()).isEqualTo("foodb");
    }

    @Test
    void valuesWithUnitsBooleansSizesAndLists() throws ConfigException {
        SluiceConfig cfg = files.load("""
                [databases]
                appdb =
                [sluice]
                auth_type = trust
                reserve_pool_timeout = 0.5
                server_lifetime = 1h
                query_wait_timeout = 90s
                client_idle_timeout = 5min
                server_check_delay = 250ms
                idle_transaction_timeout = 1d
                server_reset_query_always = yes
                log_connections = off
                LOG_DISCONNECTIONS = False
                max_client_message_size = 16MB
                max_startup_packet_size = 64kB
                max_server_message_size = 2GB
                admin_users = admin ,  ops,,
                server_check_query =
                """);
        Settings s = cfg.settings();
        assertThat(s.reservePoolTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(s.serverLifetime()).isEqualTo(Duration.ofHours(1));
        assertThat(s.queryWaitTimeout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(s.clientIdleTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(s.serverCheckDelay()).isEqualTo(Duration.ofMillis(250));
        assertThat(s.idleTransactionTimeout()).isEqualTo(Duration.ofDays(1));
        assertThat(s.serverResetQueryAlways()).isTrue();
        assertThat(s.logConnections()).isFalse();
        assertThat(s.logDisconnections()).isFalse();
        assertThat(s.maxClientMessageSize()).isEqualTo(16 * 1024 * 1024);
        assertThat(s.maxStartupPacketSize()).isEqualTo(64 * 1024);
        assertThat(s.maxServerMessageSize()).isEqualTo(2L * 1024 * 1024 * 1024);
        assertThat(s.adminUsers()).containsExactly("admin", "ops");
        assertThat(s.serverCheckQuery()).isEmpty();
    }

    @Test
    void quotedValuesAndQuotedDatabaseNames() throws ConfigException {
        SluiceConfig cfg = files.load("""
                [databases]
                "my-db" = host=db dbname='it''s here' password='p\\'w d'
                "odd""name" = dbname=odd
                [pgbouncer]
                auth_type = "trust"
                server_reset_query = 'DEALLOCATE ALL'
                listen_addr = "0.0.0.0"
                """);
        assertThat(cfg.databases()).containsOnlyKeys("my-db", "odd\"name");
        assertThat(cfg.databases().get("my-db").dbname()).isEqualTo("it's here");
        assertThat(cfg.databases().get("my-db").password()).isEqualTo("p'w d");
        assertThat(cfg.settings().authType()).isEqualTo(AuthType.TRUST);
        assertThat(cfg.settings().serverResetQuery()).isEqualTo("DEALLOCATE ALL");
        assertThat(cfg.settings().listenAddr()).isEqualTo("0.0.0.0");
    }

    @Test
    void databaseFallbackUsesRequestedName() throws ConfigException {
        SluiceConfig cfg = files.load("""
                [databases]
                appdb = host=primary dbname=shop
                * = host=fallback-host port=6000 pool_size=7
                [pgbouncer]
                auth_type = trust
                """);

        assertThat(cfg.database("appdb")).get().satisfies(db -> {
            assertThat(db.host()).isEqualTo("primary");
            assertThat(db.dbname()).isEqualTo("shop");
        });
        assertThat(cfg.database("analytics")).get().satisfies(db -> {
            assertThat(db.name()).isEqualTo("analytics");
            assertThat(db.dbname()).isEqualTo("analytics");
            assertThat(db.host()).isEqualTo("fallback-host");
            assertThat(db.port()).isEqualTo(6000);
            assertThat(db.poolSize()).isEqualTo(7);
        });
        // The stored "*" entry itself is unchanged: dbname null means "whatever the client asked for".
        assertThat(cfg.databases().get("*").dbname()).isNull();
    }

    @Test
    void withoutFallbackUnknownDatabaseIsEmpty() throws ConfigException {
        SluiceConfig cfg = files.load("""
                [databases]
                appdb = host=primary
                [pgbouncer]
                auth_type = trust
                """);
        assertThat(cfg.database("other")).isEmpty();
        assertThat(cfg.database("appdb")).isPresent();
    }

    @Test
    void fallbackWithExplicitDbnameKeepsIt() throws ConfigException {
        SluiceConfig cfg = files.load("""
                [databases]
                * = host=h dbname=everything
                [pgbouncer]
                auth_type = trust
                """);
        assertThat(cfg.database("whatever")).get().extracting(DatabaseConfig::dbname).isEqualTo("everything");
    }

    @Test
    void poolModeAndUserCapPrecedence() throws ConfigException {
        SluiceConfig cfg = files.load("""
                [databases]
                a = pool_mode=session
                b =
                [users]
                bob = pool_mode=transaction max_user_connections=4
                [pgbouncer]
                auth_type = trust
                pool_mode = transaction
                max_user_connections = 9
                """);
        DatabaseConfig a = cfg.databases().get("a");
        DatabaseConfig b = cfg.databases().get("b");
        assertThat(cfg.poolMode(a, "alice")).isEqualTo(PoolMode.SESSION);
        assertThat(cfg.poolMode(a, "bob")).isEqualTo(PoolMode.TRANSACTION);
        assertThat(cfg.poolMode(b, "alice")).isEqualTo(PoolMode.TRANSACTION);
        assertThat(cfg.maxUserConnections("bob")).isEqualTo(4);
        assertThat(cfg.maxUserConnections("alice")).isEqualTo(9);
    }

    @Test
    void manyErrorsAreReportedTogetherWithFileAndLine() {
        ConfigException e = files.fail("""
                stray = 1
                [databases]
                appdb = host=db port=99999
                bad = host=db colour=blue
                stmt = pool_mode=statement
                [pgbouncer]
                listen_port = sixty
                max_client_con = 100
                log_connections = maybe
                query_wait_timeout = 2 weeks
                default_pool_size = 0
                pool_mode = statement
                auth_type = hba
                this line has no equals sign
                [nonsense]
                key = value
                """);
        Path ini = files.path("pgbouncer.ini");

        assertThat(e.problems()).extracting(ConfigProblem::line)
                .containsExactly(1, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15)
                .doesNotContain(16); // entries of an unknown section are not reported one by one
        assertThat(e.problems()).allSatisfy(p -> assertThat(p.file()).isEqualTo(ini));
        assertThat(e.getMessage().lines()).hasSize(13);
        assertThat(e.getMessage()).contains(
                ini + ":14: expected 'name = value' but found this line has no equals sign",
                ini + ":15: unknown section [nonsense]",
                ini + ":1: 'stray = ...' comes before any section header",
                ini + ":3: [databases] appdb: port: 99999 is out of range; use a number from 1 to 65535",
                ini + ":4: [databases] bad: unknown key 'colour' in the connection string",
                ini + ":5: [databases] stmt: pool_mode: statement pooling is not supported by Sluice",
                ini + ":7: listen_port: 'sixty' is not a whole number",
                ini + ":8: unknown setting 'max_client_con' in [pgbouncer] (did you mean 'max_client_conn'?)",
                ini + ":9: log_connections: 'maybe' is not a boolean",
                ini + ":10: query_wait_timeout: '2 weeks' has an unknown time unit 'weeks'",
                ini + ":11: default_pool_size: 0 is too small",
                ini + ":12: pool_mode: statement pooling is not supported by Sluice",
                ini + ":13: auth_type: hba is not supported by Sluice yet");
    }

    @Test
    void errorsInIncludedFileNameThatFile() {
        files.write("conf.d/databases.ini", """
                [databases]
                appdb = host=db
                broken = host=db port=abc
                """);
        ConfigException e = files.fail("""
                %include conf.d/databases.ini
                [pgbouncer]
                auth_type = trust
                listen_port = 70000
                """);
        // Reported in reading order: the including file first, then each included file.
        assertThat(e.problems()).extracting(ConfigProblem::toString).containsExactly(
                files.path("pgbouncer.ini") + ":4: listen_port: 70000 is out of range; use a number from 0 to 65535",
                files.path("conf.d/databases.ini") + ":3: [databases] broken: port: 'abc' is not a whole number");
    }

    @Test
    void includeIsInlineAndRelativeToIncludingFile() throws ConfigException {
        files.write("conf.d/pool.ini", """
                default_pool_size = 11
                %include more/limits.ini
                """);
        files.write("conf.d/more/limits.ini", "max_client_conn = 321\n");
        SluiceConfig cfg = files.load("""
                [databases]
                appdb =
                [pgbouncer]
                auth_type = trust
                %include conf.d/pool.ini
                listen_port = 7000
                """);
        assertThat(cfg.settings().defaultPoolSize()).isEqualTo(11);
        assertThat(cfg.settings().maxClientConn()).isEqualTo(321);
        assertThat(cfg.settings().listenPort()).isEqualTo(7000);
    }

    @Test
    void includeCycleIsAnErrorNotAHang() {
        files.write("a.ini", "%include b.ini\n");
        files.write("b.ini", "[pgbouncer]\n%include a.ini\n");
        ConfigException e = files.fail("""
                [pgbouncer]
                auth_type = trust
                [databases]
                appdb =
                %include a.ini
                """);
        assertThat(e.problems()).hasSize(1);
        ConfigProblem p = e.problems().get(0);
        assertThat(p.file()).isEqualTo(files.path("b.ini"));
        assertThat(p.line()).isEqualTo(2);
        assertThat(p.message()).startsWith("%include cycle: ").contains("a.ini -> ").contains("b.ini -> ");
    }

    @Test
    void missingIncludeIsReportedAtTheIncludeLine() {
        ConfigException e = files.fail("""
                [pgbouncer]
                auth_type = trust

                %include nowhere.ini
                """);
        assertThat(e.problems()).extracting(ConfigProblem::toString).containsExactly(
                files.path("pgbouncer.ini") + ":4: included file " + files.path("nowhere.ini")
                        + " does not exist; check the path (relative paths are taken from the including file's directory)");
    }

    @Test
    void missingConfigFile() {
        Path missing = files.path("absent.ini");
        try {
            ConfigLoader.load(missing);
            throw new AssertionError("should have failed");
        } catch (ConfigException e) {
            assertThat(e.getMessage()).isEqualTo(missing + ": config file " + missing + " does not exist; check the path");
        }
    }

    @Test
    void authFileMissingIsReportedAtTheAuthFileLine() {
        ConfigException e = files.fail("""
                [databases]
                appdb =
                [pgbouncer]
                auth_type = md5
                auth_file = users/missing.txt
                """);
        assertThat(e.problems()).extracting(ConfigProblem::toString).containsExactly(
                files.path("pgbouncer.ini") + ":5: auth_file " + files.path("users/missing.txt")
                        + " does not exist; create it or fix the path");
    }

    @Test
    void passwordAuthWithoutAuthFileIsAnError() {
        ConfigException e = files.fail("""
                [databases]
                appdb =
                [pgbouncer]
                listen_port = 6432
                auth_type = scram-sha-256
                """);
        assertThat(e.problems()).hasSize(1);
        assertThat(e.problems().get(0).line()).isEqualTo(5);
        assertThat(e.problems().get(0).message()).startsWith("auth_type = scram-sha-256 needs auth_file");
    }

    @Test
    void defaultAuthTypeWithoutAuthFileIsReportedAtTheSectionHeader() {
        ConfigException e = files.fail("""
                [databases]
                appdb =

                [pgbouncer]
                listen_port = 6432
                """);
        assertThat(e.problems()).hasSize(1);
        assertThat(e.problems().get(0).line()).isEqualTo(4);
        assertThat(e.problems().get(0).message()).startsWith("auth_type defaults to md5, which needs auth_file");
    }

    @Test
    void authFileErrorsCarryTheAuthFileNameAndLine() {
        files.write("userlist.txt", """
                "alice" "ok"
                bob "unquoted name"
                "carol" "unterminated
                """);
        ConfigException e = files.fail("""
                [databases]
                appdb =
                [pgbouncer]
                auth_file = userlist.txt
                listen_port = -1
                """);
        Path users = files.path("userlist.txt");
        assertThat(e.problems()).extracting(ConfigProblem::file, ConfigProblem::line).containsExactly(
                org.assertj.core.groups.Tuple.tuple(files.path("pgbouncer.ini"), 5),
                org.assertj.core.groups.Tuple.tuple(users, 2),
                org.assertj.core.groups.Tuple.tuple(users, 3));
    }

    @Test
    void minPoolSizeAbovePoolSizeIsAnError() {
        ConfigException e = files.fail("""
                [databases]
                small = pool_size=5
                fine = pool_size=50
                tiny = min_pool_size=30
                [pgbouncer]
                auth_type = trust
                default_pool_size = 20
                min_pool_size = 10
                """);
        assertThat(e.problems()).extracting(ConfigProblem::toString).containsExactly(
                files.path("pgbouncer.ini") + ":2: [databases] small: min_pool_size = 10 (global) is larger than "
                        + "the pool size, pool_size=5; lower min_pool_size or raise pool_size",
                files.path("pgbouncer.ini") + ":4: [databases] tiny: min_pool_size=30 is larger than the pool size, "
                        + "default_pool_size = 20 (global); lower min_pool_size or raise pool_size");
    }

    @Test
    void globalMinPoolSizeAboveDefaultPoolSize() {
        ConfigException e = files.fail("""
                [pgbouncer]
                auth_type = trust
                default_pool_size = 5
                min_pool_size = 6
                """);
        assertThat(e.problems()).extracting(ConfigProblem::line).containsExactly(4);
        assertThat(e.problems().get(0).message()).contains("min_pool_size = 6 is larger than default_pool_size = 5");
    }

    @Test
    void unimplementedSettingsWarnOnlyWhenTheyMatter() throws ConfigException {
        SluiceConfig cfg = files.load("""
                [databases]
                appdb = host=db connect_query='SELECT 1' auth_user=pgb target_session_attrs=any
                [users]
                bob = pool_size=3 max_user_client_connections=0
                [pgbouncer]
                auth_type = trust
                unix_socket_dir = /var/run/postgresql
                unix_socket_mode = 777
                tcp_keepalive = on
                stats_period = 60.0
                pkt_buf = 8192
                logfile =
                server_tls_sslmode = prefer
                client_tls_dheparams = legacy
                max_packet_size = 1000000
                """);
        Path ini = files.path("pgbouncer.ini");
        assertThat(cfg.warnings()).extracting(ConfigProblem::toString).containsExactly(
                ini + ":2: [databases] appdb: connect_query is not implemented by Sluice yet; ignored",
                ini + ":2: [databases] appdb: auth_user is not implemented by Sluice yet; ignored",
                ini + ":4: [users] bob: pool_size is not implemented by Sluice yet; ignored",
                ini + ":11: setting pkt_buf is not implemented by Sluice yet; ignored",
                ini + ":14: setting client_tls_dheparams is not implemented by Sluice yet; ignored",
                ini + ":15: setting max_packet_size is not implemented by Sluice yet; ignored "
                        + "(Sluice uses max_client_message_size and max_server_message_size instead)");
    }

    @Test
    void clientTlsWithoutItsCertificateIsAnErrorAtTheModeLine() {
        ConfigException e = files.fail("""
                [pgbouncer]
                auth_type = trust
                server_tls_sslmode = verify-full
                client_tls_sslmode = require
                """);
        // server verify-full without server_tls_ca_file is fine: the JDK's trusted CAs are used.
        assertThat(e.problems()).extracting(ConfigProblem::line).containsExactly(4);
        assertThat(e.problems().get(0).message()).startsWith("client_tls_sslmode = require needs client_tls_key_file "
                + "and client_tls_cert_file");
    }

    @Test
    void tcpKeepaliveSettingsAreReadAndBounded() throws ConfigException {
        SluiceConfig cfg = files.load("""
                [databases]
                appdb = host=db.internal
                [pgbouncer]
                auth_type = trust
                tcp_keepalive = on
                tcp_keepidle = 60
                tcp_keepintvl =
                tcp_keepcnt = 5
                tcp_user_timeout = 30000
                """);
        // An empty value is PgBouncer's "not set": the operating system's default.
        assertThat(cfg.settings().tcpKeepalive()).isEqualTo(new TcpKeepalive(true, 60, 0, 5, 30000));
        assertThat(cfg.warnings()).isEmpty();
        assertThat(Settings.defaults().tcpKeepalive()).isEqualTo(new TcpKeepalive(true, 0, 0, 0, 0));

        ConfigException e = files.fail("""
                [pgbouncer]
                auth_type = trust
                tcp_keepcnt = 500
                tcp_keepidle = -1
                tcp_keepalive = maybe
                """);
        assertThat(e.problems()).extracting(ConfigProblem::line).containsExactly(3, 4, 5);
        assertThat(e.problems().get(0).message()).contains("tcp_keepcnt").contains("use a number from 0 to 127");
        assertThat(e.problems().get(1).message()).contains("tcp_keepidle").contains("negative");
        assertThat(e.problems().get(2).message()).contains("tcp_keepalive").contains("not a boolean");
    }

    @Test
    void everyDocumentedPgBouncerSettingIsRecognised() throws ConfigException {
        // Names from PgBouncer's documented settings; none may be an "unknown setting" error.
        List<String> names = List.of("logfile", "pidfile", "listen_addr", "listen_port", "unix_socket_dir",
                "unix_socket_mode", "unix_socket_group", "user", "pool_mode", "max_client_conn", "default_pool_size",
                "min_pool_size", "reserve_pool_size", "reserve_pool_timeout", "max_db_connections",
                "max_db_client_connections", "max_user_connections", "max_user_client_connections",
                "server_round_robin", "track_extra_parameters", "ignore_startup_parameters", "peer_id",
                "disable_pqexec", "application_name_add_host", "conffile", "service_name", "job_name",
                "stats_period", "max_prepared_statements", "scram_iterations", "auth_type", "auth_hba_file",
                "auth_ident_file", "auth_file", "auth_user", "auth_query", "auth_dbname", "auth_ldap_options",
                "syslog", "syslog_ident", "syslog_facility", "log_connections", "log_disconnections",
                "log_pooler_errors", "log_stats", "verbose", "admin_users", "stats_users", "server_reset_query",
                "server_reset_query_always", "server_check_delay", "server_check_query", "server_fast_close",
                "server_lifetime", "server_idle_timeout", "server_connect_timeout", "server_login_retry",
                "client_login_timeout", "autodb_idle_timeout", "dns_max_ttl", "dns_nxdomain_ttl",
                "dns_zone_check_period", "resolv_conf", "query_wait_notify", "login_notify_message",
                "client_tls_sslmode", "client_tls_key_file", "client_tls_cert_file", "client_tls_ca_file",
                "client_tls_protocols", "client_tls_ciphers", "client_tls13_ciphers", "client_tls_ecdhcurve",
                "client_tls_dheparams", "server_tls_sslmode", "server_tls_ca_file", "server_tls_key_file",
                "server_tls_cert_file", "server_tls_protocols", "server_tls_ciphers", "server_tls13_ciphers",
                "query_timeout", "query_wait_timeout", "cancel_wait_timeout", "client_idle_timeout",
                "idle_transaction_timeout", "transaction_timeout", "pkt_buf", "max_packet_size", "listen_backlog",
                "sbuf_loopcnt", "so_reuseport", "tcp_defer_accept", "tcp_socket_buffer", "tcp_keepalive",
                "tcp_keepcnt", "tcp_keepidle", "tcp_keepintvl", "tcp_user_timeout");
        for (String name : names) {
            Path ini = files.write("probe.ini", "[pgbouncer]\n" + name + " = 1\n");
            try {
                ConfigLoader.load(ini);
            } catch (ConfigException e) {
                assertThat(e.getMessage()).as(name).doesNotContain("unknown setting");
            }
        }
    }

    @Test
    void settingTwiceWarnsAndLaterWins() throws ConfigException {
        files.write("override.ini", "[pgbouncer]\nmax_client_conn = 900\n");
        SluiceConfig cfg = files.load("""
                [databases]
                appdb =
                [pgbouncer]
                auth_type = trust
                max_client_conn = 200
                %include override.ini
                """);
        assertThat(cfg.settings().maxClientConn()).isEqualTo(900);
        assertThat(cfg.warnings()).extracting(ConfigProblem::toString).containsExactly(
                files.path("override.ini") + ":2: max_client_conn is set again (first at "
                        + files.path("pgbouncer.ini") + ":5); this later value wins");
    }

    @Test
    void extraSectionsAreKeptRawAndPeersAreWarnedAbout() throws ConfigException {
        SluiceConfig cfg = files.load("""
                [databases]
                appdb =
                [pgbouncer]
                auth_type = trust
                [workloads]
                reporting = match=user:report_user max=5
                [alerts]
                Budget_Warn = "90%"
                [peers]
                1 = host=/tmp/pgbouncer1
                """);
        Path ini = files.path("pgbouncer.ini");
        assertThat(cfg.extraSections().get("workloads"))
                .containsExactly(new RawEntry("reporting", "match=user:report_user max=5", ini, 6));
        assertThat(cfg.extraSections().get("alerts"))
                .containsExactly(new RawEntry("Budget_Warn", "\"90%\"", ini, 8));
        assertThat(cfg.warnings()).extracting(ConfigProblem::line).containsExactly(9);
    }

    @Test
    void commentsOnlyAtLineStartAndAHintWhenMisused() {
        ConfigException e = files.fail("""
                # a comment
                    ; an indented comment
                [pgbouncer]
                auth_type = trust
                listen_port = 6432 ; the usual port
                """);
        assertThat(e.problems()).extracting(ConfigProblem::toString).containsExactly(
                files.path("pgbouncer.ini") + ":5: listen_port: '6432 ; the usual port' is not a whole number "
                        + "(';' and '#' start a comment only at the beginning of a line)");
    }

    @Test
    void reservedAdminDatabaseNameAndHostListHandling() throws ConfigException {
        ConfigException e = files.fail("""
                [databases]
                pgbouncer = host=db
                [pgbouncer]
                auth_type = trust
                """);
        assertThat(e.problems()).extracting(ConfigProblem::line).containsExactly(2);
        assertThat(e.getMessage()).contains("reserved for the admin console");

        SluiceConfig cfg = files.load("""
                [databases]
                appdb = host=db1,db2
                [pgbouncer]
                auth_type = trust
                """);
        assertThat(cfg.databases().get("appdb").host()).isEqualTo("db1");
        assertThat(cfg.warnings()).extracting(ConfigProblem::message)
                .containsExactly("[databases] appdb: host lists are not supported by Sluice yet; only the first host, db1, is used");
    }

    @Test
    void brokenConnectionStringSyntax() {
        ConfigException e = files.fail("""
                [databases]
                a = host='db
                b = user= password=x
                c = host db
                [pgbouncer]
                auth_type = trust
                """);
        assertThat(e.problems()).extracting(ConfigProblem::line).containsExactly(2, 3, 4);
        assertThat(e.problems().get(0).message()).contains("host is not closed");
        assertThat(e.problems().get(1).message()).contains("user= has no value");
        assertThat(e.problems().get(2).message()).contains("expected '=' after host");
    }

    @Test
    void authTypeAnyWarnsAboutDatabasesWithoutForcedUser() throws ConfigException {
        SluiceConfig cfg = files.load("""
                [databases]
                forced = user=app
                open = host=db
                [pgbouncer]
                auth_type = any
                """);
        assertThat(cfg.warnings()).extracting(ConfigProblem::line).containsExactly(3);
        assertThat(cfg.warnings().get(0).message()).contains("auth_type = any");
    }

    @Test
    void noDatabasesIsAWarning() throws ConfigException {
        SluiceConfig cfg = files.load("[pgbouncer]\nauth_type = trust\n");
        assertThat(cfg.warnings()).extracting(ConfigProblem::message)
                .singleElement().asString().startsWith("no databases are defined");
    }
}
