package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Edge cases of the wire protocol, with raw bytes: each gets PostgreSQL's answer, or a clear error. */
class RawProtocolTest {
    static SluiceHandle sluice;

    @BeforeAll
    static void start() throws Exception {
        sluice = SluiceHandle.trust("transaction", 2, "");
    }

    @AfterAll
    static void stop() {
        sluice.close();
    }

    @Test
    void sslRequestIsAnsweredNoThenPlainStartupWorks() throws Exception {
        try (RawClient c = new RawClient(sluice.port())) {
            c.untyped(80877103);
            assertThat(c.in.readUnsignedByte()).isEqualTo('N');
            c.login("postgres", "postgres");
            c.query("SELECT 1").flush();
            assertThat(c.readUntilReady(null)).isEqualTo("TDCZ");
        }
    }

    @Test
    void gssEncRequestIsAnsweredNo() throws Exception {
        try (RawClient c = new RawClient(sluice.port())) {
            c.untyped(80877104);
            assertThat(c.in.readUnsignedByte()).isEqualTo('N');
            c.login("postgres", "postgres");
        }
    }

    @Test
    void protocolTwoIsRefusedWithFeatureNotSupported() throws Exception {
        try (RawClient c = new RawClient(sluice.port())) {
            c.startup(2 << 16, "user", "postgres");
            RawClient.Msg m = c.read();
            assertThat(m.type()).isEqualTo('E');
            assertThat(m.fields().get('C')).isEqualTo("0A000");
            assertThat(m.fields().get('M')).contains("unsupported frontend protocol 2.0");
            assertThat(c.closedByPeer()).isTrue();
        }
    }

    @Test
    void protocolThreeTwoIsNegotiatedDownToThreeZeroLikePostgres() throws Exception {
        try (RawClient c = new RawClient(sluice.port())) {
            c.startup((3 << 16) | 2, "user", "postgres", "database", "postgres", "_pq_.test_option", "1");
            RawClient.Msg v = c.read();
            assertThat(v.type()).isEqualTo('v');
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(v.body());
            assertThat(b.getInt()).isZero();      // newest minor version: 0
            assertThat(b.getInt()).isEqualTo(1);  // one unrecognised option
            assertThat(v.text()).contains("_pq_.test_option");
            assertThat(c.readUntilReady(null)).startsWith("R").endsWith("Z");
            c.query("SELECT 1").flush();
            assertThat(c.readUntilReady(null)).isEqualTo("TDCZ");
        }
    }

    @Test
    void oversizedStartupPacketIsRefusedWithoutReadingIt() throws Exception {
        try (RawClient c = new RawClient(sluice.port())) {
            c.out.writeInt(50_000_000);
            c.out.writeInt(196608);
            c.out.flush();
            RawClient.Msg m = c.read();
            assertThat(m.fields().get('C')).isEqualTo("08P01");
            assertThat(m.fields().get('M')).contains("invalid length of startup packet");
            assertThat(c.closedByPeer()).isTrue();
        }
    }

    @Test
    void oversizedMessageIsRefusedWith54000() throws Exception {
        try (RawClient c = new RawClient(sluice.port())) {
            c.login("postgres", "postgres");
            c.out.writeByte('Q');
            c.out.writeInt(Integer.MAX_VALUE);
            c.out.write(new byte[100]);
            c.out.flush();
            RawClient.Msg m = c.read();
            assertThat(m.type()).isEqualTo('E');
            assertThat(m.fields().get('C')).isEqualTo("54000");
            assertThat(m.fields().get('M')).contains("over the limit");
            assertThat(c.closedByPeer()).isTrue();
        }
    }

    @Test
    void missingUserAndUnknownDatabaseGetPostgresErrors() throws Exception {
        try (RawClient c = new RawClient(sluice.port())) {
            c.startup(196608, "database", "postgres");
            RawClient.Msg m = c.read();
            assertThat(m.fields().get('C')).isEqualTo("28000");
            assertThat(m.fields().get('M')).isEqualTo("no PostgreSQL user name specified in startup packet");
        }
        try (SluiceHandle strict = SluiceHandle.start("known = host=127.0.0.1 port=${PGPORT} dbname=postgres",
                "auth_type = trust", null); RawClient c = new RawClient(strict.port())) {
            c.startup(196608, "user", "postgres", "database", "unknown");
            RawClient.Msg m = c.read();
            assertThat(m.fields().get('C')).isEqualTo("3D000");
            assertThat(m.fields().get('M')).isEqualTo("database \"unknown\" does not exist");
        }
    }

    @Test
    void errorInExtendedPipelineIsRecoveredAtSync() throws Exception {
        try (RawClient c = new RawClient(sluice.port())) {
            c.login("postgres", "postgres");
            // Two batches in one write: the first fails at Parse; the server discards until Sync.
            c.extended("SELEC broken");
            c.extended("SELECT 42");
            c.flush();
            StringBuilder errors = new StringBuilder();
            assertThat(c.readUntilReady(errors)).isEqualTo("EZ");
            assertThat(errors.toString()).startsWith("42601");
            assertThat(c.readUntilReady(null)).isEqualTo("12DCZ");
            // and a plain query afterwards
            c.query("SELECT 1").flush();
            assertThat(c.readUntilReady(null)).isEqualTo("TDCZ");
        }
    }

    @Test
    void truncatedClientVanishingMidMessageDoesNotDisturbOthers() throws Exception {
        try (RawClient bad = new RawClient(sluice.port()); RawClient good = new RawClient(sluice.port())) {
            bad.login("postgres", "postgres");
            good.login("postgres", "postgres");
            bad.out.writeByte('Q');
            bad.out.writeInt(1000);
            bad.out.write(RawClient.cstr("SELECT"));
            bad.flush();
            bad.close();
            good.query("SELECT 2").flush();
            assertThat(good.readUntilReady(null)).isEqualTo("TDCZ");
        }
    }

    @Test
    void queriesSentWithTerminateInOnePacketAllRun() throws Exception {
        try (java.sql.Connection d = Postgres.direct(); java.sql.Statement st = d.createStatement()) {
            st.execute("DROP TABLE IF EXISTS raw_fire_and_forget");
            st.execute("CREATE TABLE raw_fire_and_forget (n int)");
        }
        try (RawClient c = new RawClient(sluice.port())) {
            c.login("postgres", "postgres");
            // One write: two inserts and Terminate, without waiting for any reply (PostgreSQL runs both).
            c.query("INSERT INTO raw_fire_and_forget VALUES (1)").query("INSERT INTO raw_fire_and_forget VALUES (2)")
                    .msg('X').flush();
            assertThat(c.closedByPeer()).isTrue();
        }
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() -> {
            try (java.sql.Connection d = Postgres.direct(); java.sql.Statement st = d.createStatement();
                 java.sql.ResultSet rs = st.executeQuery("SELECT string_agg(n::text, ',' ORDER BY n) FROM raw_fire_and_forget")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("1,2");
            }
        });
    }
}
