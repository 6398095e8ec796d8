package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/** COPY in both directions and a 100 MB result set through Sluice, byte for byte. */
class CopyAndLargeResultTest {
    static SluiceHandle sluice;

    @BeforeAll
    static void start() throws Exception {
        sluice = SluiceHandle.trust("transaction", 2, "");
        try (Connection c = Postgres.direct(); Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS copy_t");
            st.execute("CREATE TABLE copy_t (id int, payload text)");
        }
    }

    @AfterAll
    static void stop() {
        sluice.close();
    }

    @Test
    void copyInThenCopyOutRoundTrips() throws Exception {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            data.append(i).append('\t').append("row-").append(i).append("-\u00e9t\u00e9\n");
        }
        try (Connection c = sluice.connect()) {
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            long in = copy.copyIn("COPY copy_t FROM STDIN", new StringReader(data.toString()));
            assertThat(in).isEqualTo(20_000);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long n = copy.copyOut("COPY (SELECT * FROM copy_t ORDER BY id) TO STDOUT", out);
            assertThat(n).isEqualTo(20_000);
            assertThat(out.toString(java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(data.toString());
            // the connection is still good after COPY
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM copy_t")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(20_000);
            }
        }
    }

    @Test
    void hundredMegabyteResultArrivesWhole() throws Exception {
        try (Connection c = sluice.connect()) {
            c.setAutoCommit(false); // fetch in chunks: the client holds little, Sluice must stream
            try (Statement st = c.createStatement()) {
                st.setFetchSize(1000);
                long bytes = 0;
                long rows = 0;
                long sum = 0;
                try (ResultSet rs = st.executeQuery(
                        "SELECT g, repeat(md5(g::text), 32) FROM generate_series(1, 100000) g")) {
                    while (rs.next()) {
                        rows++;
                        sum += rs.getLong(1);
                        bytes += rs.getString(2).length();
                    }
                }
                assertThat(rows).isEqualTo(100_000);
                assertThat(sum).isEqualTo(100_000L * 100_001L / 2);
                assertThat(bytes).isEqualTo(100_000L * 1024);
            }
            c.commit();
        }
    }

    @Test
    void hundredMegabyteResultInOneSimpleQuery() throws Exception {
        try (Connection c = sluice.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT sum(length(x)) FROM (SELECT repeat('x', 1048576) AS x"
                     + " FROM generate_series(1, 1)) s")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(1048576L);
        }
        // 100 rows of 1 MiB each as one unfetched result: 100 MB pass through the proxy.
        try (Connection c = sluice.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT repeat(chr(65 + g % 26), 1048576) FROM generate_series(1, 100) g")) {
            long total = 0;
            int rows = 0;
            while (rs.next()) {
                String v = rs.getString(1);
                rows++;
                total += v.length();
                assertThat(v.charAt(0)).isEqualTo((char) (65 + rows % 26));
            }
            assertThat(rows).isEqualTo(100);
            assertThat(total).isEqualTo(100L * 1048576L);
        }
    }
}
