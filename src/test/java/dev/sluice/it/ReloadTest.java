package dev.sluice.it;

import static dev.sluice.it.AdminConsoleTest.ADMINS;
import static dev.sluice.it.AdminConsoleTest.client;
import static dev.sluice.it.AdminConsoleTest.one;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.admin.ReloadResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** RELOAD (console) and reload() (what SIGHUP calls): new limits apply to running pools; a broken file changes nothing. */
class ReloadTest {

    private static Path ini(SluiceHandle s) {
        return s.dir().resolve("sluice.ini");
    }

    private static void edit(SluiceHandle s, String from, String to) throws Exception {
        String text = Files.readString(ini(s));
        assertThat(text).contains(from);
        Files.writeString(ini(s), text.replace(from, to));
    }

    /** Runs a console command and returns the notices it sent. */
    private static List<String> runWithNotices(Console console, String sql) throws SQLException {
        try (Statement st = console.connection.createStatement()) {
            st.execute(sql);
            List<String> notices = new ArrayList<>();
            for (SQLWarning w = st.getWarnings(); w != null; w = w.getNextWarning()) {
                notices.add(w.getMessage());
            }
            return notices;
        }
    }

    @Test
    void reloadRaisesThePoolSizeWithoutDroppingTheConnectedClient() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1, ADMINS + "query_wait_timeout = 30\n");
             Console console = Console.open(s, "admin", null);
             Connection holder = client(s, "holder");
             Connection waiter = client(s, "waiter")) {
            holder.setAutoCommit(false);
            String pid = one(holder, "SELECT pg_backend_pid()");
            CompletableFuture<String> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return one(waiter, "SELECT 'served'");
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(300);
            assertThat(waiting).isNotDone(); // pool_size 1 is taken by the open transaction

            edit(s, "default_pool_size = 1", "default_pool_size = 2");
            List<String> notices = runWithNotices(console, "RELOAD");
            assertThat(notices).anyMatch(n -> n.contains("default_pool_size changed from '1' to '2'"));
            assertThat(waiting.get(5, TimeUnit.SECONDS)).isEqualTo("served");
            // the client inside its transaction kept its server and its transaction
            assertThat(one(holder, "SELECT pg_backend_pid()")).isEqualTo(pid);
            holder.commit();
            assertThat(console.query("SHOW CONFIG").row("key", "default_pool_size").get("value")).isEqualTo("2");
        }
    }

    @Test
    void aBrokenFileIsRejectedAndTheRunningConfigKept() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 3, ADMINS);
             Console console = Console.open(s, "admin", null);
             Connection connected = client(s, "connected")) {
            String good = Files.readString(ini(s));
            Files.writeString(ini(s), good.replace("default_pool_size = 3", "default_pool_size = lots")
                    + "no_such_setting = 1\n");
            assertThatThrownBy(() -> console.run("RELOAD"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(e.getMessage())
                            .contains("2 error(s); the running configuration is kept")
                            .contains(ini(s) + ":")
                            .contains("not a whole number")
                            .contains("unknown setting 'no_such_setting'"));
            ReloadResult direct = s.server().reload(); // the SIGHUP path
            assertThat(direct.applied()).isFalse();
            assertThat(direct.errors()).hasSize(2);

            assertThat(console.query("SHOW CONFIG").row("key", "default_pool_size").get("value")).isEqualTo("3");
            assertThat(one(connected, "SELECT 'still fine'")).isEqualTo("still fine");
            try (Connection fresh = client(s, "fresh")) {
                assertThat(one(fresh, "SELECT 1")).isEqualTo("1");
            }
            Files.writeString(ini(s), good.replace("default_pool_size = 3", "default_pool_size = 4"));
            assertThat(s.server().reload().applied()).isTrue();
            assertThat(console.query("SHOW CONFIG").row("key", "default_pool_size").get("value")).isEqualTo("4");
        }
    }

    @Test
    void reloadAddsAndRemovesDatabasesAndReadsTheAuthFileAgain() throws Exception {
        try (SluiceHandle s = SluiceHandle.start("appdb = host=127.0.0.1 port=${PGPORT} dbname=postgres",
                "auth_type = md5\npool_mode = transaction\n" + ADMINS,
                "\"postgres\" \"pw\"\n\"admin\" \"adminpw\"\n");
             Console console = Console.open(s, "admin", "adminpw");
             Connection old = s.connect("appdb", "postgres", "pw")) {
            assertThat(one(old, "SELECT 1")).isEqualTo("1");
            assertThatThrownBy(() -> s.connect("appdb", "scramuser", "scrampass"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
            edit(s, "appdb = host=", "newdb = host=");
            Files.writeString(s.dir().resolve("userlist.txt"), "\"postgres\" \"pw\"\n\"admin\" \"adminpw\"\n"
                    + "\"scramuser\" \"scrampass\"\n");
            List<String> notices = runWithNotices(console, "RELOAD");
            assertThat(notices).anyMatch(n -> n.contains("[databases] newdb added"))
                    .anyMatch(n -> n.contains("[databases] appdb removed"));

            assertThatThrownBy(() -> s.connect("appdb", "postgres", "pw"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("3D000"));
            assertThat(one(old, "SELECT 'kept'")).isEqualTo("kept"); // its pool still serves it
            try (Connection c = s.connect("newdb", "postgres", "pw")) {
                assertThat(one(c, "SELECT current_database()")).isEqualTo("postgres");
            }
            try (Connection c = s.connect("newdb", "scramuser", "scrampass")) { // added to auth_file
                assertThat(one(c, "SELECT current_user")).isEqualTo("scramuser");
            }
        }
    }
}
