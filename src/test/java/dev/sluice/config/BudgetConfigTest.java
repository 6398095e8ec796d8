package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

// max_db_connections = auto and the budget_* settings: parsing, defaults, bad values with file:line, monitor logins.
class BudgetConfigTest {

    @TempDir
    Path dir;

    private ConfigFiles files;
    private Path ini;

    @BeforeEach
    void setUp() {
        files = new ConfigFiles(dir);
        ini = files.path("pgbouncer.ini");
    }

    @Test
    void defaultsLeaveTheBudgetOff() {
        Settings d = Settings.defaults();
        assertThat(d.maxDbConnectionsAuto()).isFalse();
        assertThat(d.maxDbConnections()).isZero();
        assertThat(d.budgetHeadroom()).isEqualTo(new BudgetHeadroom(5, true));
        assertThat(d.budgetHeadroom()).hasToString("5%");
        assertThat(d.budgetCheckInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(d.budgetUser()).isNull();
        assertThat(d.budgetPassword()).isNull();
    }

    @Test
    void globalAutoAppliesToDatabasesThatDoNotOverrideIt() throws ConfigException {
        SluiceConfig cfg = files.load("""
                [databases]
                appdb = host=10.0.0.5 dbname=shop
                capped = host=10.0.0.5 dbname=other max_db_connections=7
                [pgbouncer]
                auth_type = trust
                max_db_connections = AUTO
                budget_user = sluice_monitor
                budget_password = s3cret
                budget_headroom = 10%
                budget_check_interval = 2s
                """);
        Settings s = cfg.settings();
        assertThat(s.maxDbConnectionsAuto()).isTrue();
        assertThat(s.maxDbConnections()).isZero(); // existing code reads 0 = no fixed cap
        assertThat(s.budgetHeadroom()).isEqualTo(new BudgetHeadroom(10, true));
        assertThat(s.budgetCheckInterval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.budgetUser()).isEqualTo("sluice_monitor");
        assertThat(s.budgetPassword()).isEqualTo("s3cret");

        DatabaseConfig appdb = cfg.databases().get("appdb");
        assertThat(appdb.maxDbConnections()).isNull();
        assertThat(appdb.maxDbConnectionsAuto()).isFalse();
        assertThat(appdb.effectiveMaxDbConnectionsAuto(s)).isTrue();
        assertThat(appdb.effectiveMaxDbConnections(s)).isZero();
        DatabaseConfig capped = cfg.databases().get("capped");
        assertThat(capped.effectiveMaxDbConnectionsAuto(s)).isFalse();
        assertThat(capped.effectiveMaxDbConnections(s)).isEqualTo(7);

        assertThat(BudgetTargets.of(cfg)).containsExactly(new BudgetTarget("10.0.0.5", 5432, "shop",
                "sluice_monitor", "s3cret", List.of("appdb"), "budget_user"));
        assertThat(cfg.warnings()).isEmpty();
    }

    @Test
    void autoPerDatabaseWithItsForcedUser() throws ConfigException {
        SluiceConfig cfg = files.load("""
                [databases]
                appdb = host=db1 port=5433 dbname=shop user=app password=apppw max_db_connections=auto
                reports = host=DB1 port=5433 dbname=rep max_db_connections=auto
                other = host=db2 max_db_connections=auto user=ops
                plain = host=db1 port=5433 max_db_connections=5
                [pgbouncer]
                auth_type = trust
                max_db_connections = 40
                """);
        Settings s = cfg.settings();
        assertThat(s.maxDbConnectionsAuto()).isFalse();
        DatabaseConfig appdb = cfg.databases().get("appdb");
        assertThat(appdb.maxDbConnectionsAuto()).isTrue();
        assertThat(appdb.maxDbConnections()).isZero();
        assertThat(appdb.effectiveMaxDbConnectionsAuto(s)).isTrue();
        assertThat(cfg.databases().get("plain").effectiveMaxDbConnectionsAuto(s)).isFalse();

        // One server (host names compare without case), one monitor, logging in as the first forced user.
        assertThat(BudgetTargets.of(cfg)).containsExactly(
                new BudgetTarget("db1", 5433, "shop", "app", "apppw", List.of("appdb", "reports"),
                        "user= of [databases] appdb"),
                new BudgetTarget("db2", 5432, "other", "ops", null, List.of("other"), "user= of [databases] other"));
        assertThat(BudgetTargets.of(cfg).get(0).toString()).doesNotContain("apppw");
    }

    @Test
    void passwordComesFromAuthFileWhenPlain() throws ConfigException {
        files.write("userlist.txt", """
                "monitor" "plainpw"
                "hashed" "md545f2603610af569b6155c45067268c6b"
                """);
        SluiceConfig cfg = files.load("""
                [databases]
                appdb = host=db max_db_connections=auto
                * = host=db2
                [pgbouncer]
                auth_file = userlist.txt
                budget_user = monitor
                """);
        assertThat(BudgetTargets.of(cfg)).containsExactly(new BudgetTarget("db", 5432, "appdb", "monitor", "plainpw",
                List.of("appdb"), "budget_user (password from auth_file)"));

        SluiceConfig hashed = files.load("""
                [databases]
                * = host=db max_db_connections=auto
                [pgbouncer]
                auth_file = userlist.txt
                budget_user = hashed
                """);
        // The * entry has no dbname of its own: the monitor uses postgres.
        assertThat(BudgetTargets.of(hashed)).containsExactly(new BudgetTarget("db", 5432, "postgres", "hashed", null,
                List.of("*"), "budget_user"));
        assertThat(hashed.warnings()).extracting(ConfigProblem::toString).containsExactly(ini + ":5: the budget "
                + "monitor for db:5432 logs in as 'hashed' with pgjdbc, which needs the plain password, but auth_file "
                + "holds only a md5 secret for it; set budget_password, or let this user in without a password "
                + "(trust) from Sluice's address");
    }

    @Test
    void autoWithoutAnyLoginIsRefusedAtTheDatabaseLine() {
        ConfigException e = files.fail("""
                [databases]
                appdb = host=db dbname=shop
                [pgbouncer]
                auth_type = trust
                max_db_connections = auto
                """);
        assertThat(e.problems()).extracting(ConfigProblem::toString).containsExactly(ini + ":2: [databases] appdb: "
                + "max_db_connections = auto (from [pgbouncer]) needs a login to read max_connections and "
                + "pg_stat_activity on db:5432, and there is none: set budget_user (with budget_password, or its "
                + "password in auth_file) in [pgbouncer], or user= and password= on this entry");
    }

    @Test
    void autoOnAUnixSocketIsRefused() {
        ConfigException e = files.fail("""
                [databases]
                appdb = host=/var/run/postgresql user=app max_db_connections=auto
                [pgbouncer]
                auth_type = trust
                """);
        assertThat(e.problems()).hasSize(1);
        assertThat(e.problems().get(0).line()).isEqualTo(2);
        assertThat(e.problems().get(0).message()).startsWith("[databases] appdb: max_db_connections = auto needs a "
                + "TCP host, but host=/var/run/postgresql is a Unix-socket directory");
    }

    @Test
    void badValuesAreReportedWithFileAndLine() {
        ConfigException e = files.fail("""
                [databases]
                appdb = host=db user=app max_db_connections=automatic
                bad2 = host=db max_db_connections=-3
                [pgbouncer]
                auth_type = trust
                max_db_connections = lots
                budget_headroom = 150%
                budget_check_interval = 500ms
                budget_password = orphan
                """);
        assertThat(e.problems()).extracting(ConfigProblem::toString).containsExactly(
                ini + ":2: [databases] appdb: max_db_connections: 'automatic' is neither a number of connections "
                        + "nor auto; use 0 (no cap), a number, or auto (the server's max_connections minus its "
                        + "reserved slots, the connections that bypass Sluice and budget_headroom)",
                ini + ":3: [databases] bad2: max_db_connections: '-3' is neither a number of connections nor auto; "
                        + "use 0 (no cap), a number, or auto (the server's max_connections minus its reserved slots, "
                        + "the connections that bypass Sluice and budget_headroom)",
                ini + ":6: max_db_connections: 'lots' is neither a number of connections nor auto; use 0 (no cap), "
                        + "a number, or auto (the server's max_connections minus its reserved slots, the "
                        + "connections that bypass Sluice and budget_headroom)",
                ini + ":7: budget_headroom: 150 is out of range; use a number from 0 to 100",
                ini + ":8: budget_check_interval: 500ms is too short: the budget is read from the server at most "
                        + "once a second; use 1s or more (default 5s)");
        // budget_password without budget_user is not reported while max_db_connections itself is invalid.
    }

    @Test
    void budgetPasswordNeedsBudgetUser() {
        ConfigException e = files.fail("""
                [databases]
                appdb = host=db user=app max_db_connections=auto
                [pgbouncer]
                auth_type = trust
                budget_password = orphan
                """);
        assertThat(e.problems()).extracting(ConfigProblem::toString).containsExactly(ini + ":5: budget_password is "
                + "set but budget_user is not; set budget_user to the login the password belongs to");
    }

    @Test
    void headroomAcceptsPercentOrConnections() throws ConfigException {
        assertThat(BudgetHeadroom.parse("5%")).isEqualTo(new BudgetHeadroom(5, true));
        assertThat(BudgetHeadroom.parse(" 12 % ")).isEqualTo(new BudgetHeadroom(12, true));
        assertThat(BudgetHeadroom.parse("3")).isEqualTo(new BudgetHeadroom(3, false));
        assertThat(BudgetHeadroom.parse("0")).isEqualTo(new BudgetHeadroom(0, false));
        assertThatThrownBy(() -> BudgetHeadroom.parse("2.5%")).hasMessageContaining("is not a whole percentage");
        assertThatThrownBy(() -> BudgetHeadroom.parse("-1")).hasMessage("-1 is negative; use a number from 0 up; "
                + "write a percentage of max_connections (5%) or a number of connections (3)");
        assertThatThrownBy(() -> BudgetHeadroom.parse("some")).hasMessageStartingWith("'some' is not a whole number");

        // A percentage is of max_connections, rounded up: any non-zero percentage keeps a slot free.
        assertThat(BudgetHeadroom.DEFAULT.connections(100)).isEqualTo(5);
        assertThat(BudgetHeadroom.DEFAULT.connections(30)).isEqualTo(2);
        assertThat(BudgetHeadroom.DEFAULT.connections(10)).isEqualTo(1);
        assertThat(new BudgetHeadroom(0, true).connections(100)).isZero();
        assertThat(new BudgetHeadroom(3, false).connections(100)).isEqualTo(3);

        SluiceConfig cfg = files.load("""
                [databases]
                appdb = host=db user=app max_db_connections=auto
                [sluice]
                auth_type = trust
                budget_headroom = 4
                """);
        assertThat(cfg.settings().budgetHeadroom()).isEqualTo(new BudgetHeadroom(4, false));
    }

    @Test
    void budgetSettingsWithoutAutoAreWarnedAbout() throws ConfigException {
        SluiceConfig cfg = files.load("""
                [databases]
                appdb = host=db
                [pgbouncer]
                auth_type = trust
                budget_headroom = 10%
                budget_user = monitor
                """);
        assertThat(cfg.warnings()).extracting(ConfigProblem::line).containsExactly(5, 6);
        assertThat(cfg.warnings().get(0).message()).isEqualTo("budget_headroom has no effect: no database uses "
                + "max_db_connections = auto; set max_db_connections = auto in [pgbouncer] or on a [databases] "
                + "entry, or remove budget_headroom");
        assertThat(BudgetTargets.of(cfg)).isEmpty();
    }

    @Test
    void checkConfigExplainsTheBudget() throws ConfigException {
        SluiceConfig cfg = files.load("""
                [databases]
                appdb = host=db dbname=shop user=app max_db_connections=auto
                [pgbouncer]
                auth_type = trust
                """);
        String text = EffectiveLimits.describe(cfg);
        assertThat(text).contains("capped by the database budget read from the server (max_db_connections = auto "
                + "from [databases] appdb)");
        assertThat(text).contains("Database budget (max_db_connections = auto):\n  db:5432 (appdb): Sluice keeps its "
                + "server connections to this server within max_connections - superuser_reserved_connections - "
                + "reserved_connections - connections that bypass Sluice - headroom 5%, read every 5s as user 'app' "
                + "on database shop (user= of [databases] appdb).");
    }

    @Test
    void connStringKeepsAutoAsAValue() {
        assertThat(ConnString.parse("host=db max_db_connections=auto")).containsExactly(
                new ConnString.Param("host", "db"), new ConnString.Param("max_db_connections", "auto"));
    }
}
