package dev.sluice.it;

import static dev.sluice.it.SessionStartupParametersTest.exec;
import static dev.sluice.it.SessionStartupParametersTest.one;
import static dev.sluice.it.SessionStartupParametersTest.props;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * Transaction mode: a client's startup parameters are applied to every server it leases, and RESET,
 * SET ... TO DEFAULT, RESET ALL and DISCARD ALL return to them (not to the server's defaults), while
 * another client sharing the single server interleaves its own transactions with other parameters.
 */
class TransactionModeStartupParametersTest {

    private static List<String> script(Connection c, Connection other) throws SQLException {
        List<String> seen = new ArrayList<>();
        seen.add(one(c, "SHOW search_path"));
        exec(c, "SET search_path = elsewhere");
        one(other, "SHOW search_path"); // the other client takes the server in between
        seen.add(one(c, "SHOW search_path"));
        exec(c, "RESET search_path");
        seen.add(one(c, "SHOW search_path"));
        one(other, "SELECT 1");
        seen.add(one(c, "SHOW search_path"));
        exec(c, "SET statement_timeout = '7s'");
        exec(c, "SET search_path TO DEFAULT");
        seen.add(one(c, "SHOW search_path"));
        exec(c, "SET search_path = again");
        exec(c, "SET TimeZone = 'Asia/Tokyo'");
        exec(c, "RESET ALL");
        seen.add(one(c, "SHOW search_path"));
        seen.add(one(c, "SHOW statement_timeout"));
        seen.add(one(c, "SHOW TimeZone"));
        one(other, "SELECT 1");
        seen.add(one(c, "SHOW statement_timeout"));
        exec(c, "SET statement_timeout = '9s'");
        exec(c, "DISCARD ALL");
        seen.add(one(c, "SHOW statement_timeout"));
        seen.add(one(c, "SHOW search_path"));
        return seen;
    }

    @Test
    void resetReturnsToTheClientsStartupParametersOnEveryServer() throws Exception {
        Properties p = props("-c search_path=txn_path -c statement_timeout=4321", "txn-startup");
        p.setProperty("preferQueryMode", "simple"); // DISCARD ALL drops pgjdbc's server-prepared statements
        List<String> direct;
        try (Connection c = SessionStartupParametersTest.direct(p); Connection other = Postgres.direct()) {
            direct = script(c, other);
        }
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1, "");
             Connection c = s.connect("postgres", p);
             Connection other = s.connect()) {
            List<String> through = script(c, other);
            assertThat(through).isEqualTo(direct).containsExactly("txn_path", "elsewhere", "txn_path", "txn_path",
                    "txn_path", "txn_path", "4321ms", direct.get(7), "4321ms", "4321ms", "txn_path");
            assertThat(direct.get(7)).isNotEqualTo("Asia/Tokyo"); // pgjdbc's startup TimeZone, back after RESET ALL
            assertThat(one(other, "SHOW search_path")).isEqualTo("\"$user\", public");
            assertThat(one(other, "SHOW statement_timeout")).isEqualTo("0");
        }
    }

    @Test
    void readOnlySessionCharacteristicsDoNotReachTheNextClient() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1, "")) {
            try (Connection d = Postgres.direct()) {
                exec(d, "CREATE TABLE IF NOT EXISTS read_only_probe (x int)");
            }
            try (Connection a = s.connect()) {
                exec(a, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
                assertThat(SessionStartupParametersTest.stateOf(() -> {
                    exec(a, "INSERT INTO read_only_probe VALUES (1)");
                    return null;
                })).isEqualTo("25006"); // read_only_sql_transaction, on the same server
            }
            try (Connection b = s.connect()) {
                assertThat(one(b, "SHOW default_transaction_read_only")).isEqualTo("off");
                exec(b, "INSERT INTO read_only_probe VALUES (2)");
                assertThat(one(b, "SELECT count(*)::text FROM read_only_probe WHERE x = 2")).isNotEqualTo("0");
            }
        }
    }
}
