package dev.sluice.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

// The budget arithmetic and the text users read in logs and the console.
class ServerCapacityTest {

    @Test
    void budgetIsWhatIsLeftAndNeverNegative() {
        ServerCapacity c = new ServerCapacity(100, 3, 0, 7, 1, 5);
        assertThat(c.budget()).isEqualTo(84);
        assertThat(c.explain()).isEqualTo("budget 84 = max_connections 100 - superuser_reserved 3 - reserved 0 - "
                + "bypassing 7 - monitor 1 - headroom 5");

        ServerCapacity full = new ServerCapacity(20, 3, 2, 30, 1, 1);
        assertThat(full.budget()).isZero();
        assertThat(full.explain()).isEqualTo("budget 0 = max_connections 20 - superuser_reserved 3 - reserved 2 - "
                + "bypassing 30 - monitor 1 - headroom 1 (-17, so 0)");
        assertThatThrownBy(() -> new ServerCapacity(10, -1, 0, 0, 0, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void bypassGroupsReadAsOneStableLine() {
        Instant t = Instant.parse("2025-02-27T13:15:00Z");
        BypassGroup job = new BypassGroup("analytics", "app", "10.0.0.5", false, 7, t);
        BypassGroup anonymous = new BypassGroup(null, "app", "local", false, 1, t);
        BypassGroup spaced = new BypassGroup("nightly \"big\" report", "ops", null, true, 2, null);
        assertThat(job.describe()).isEqualTo("app=analytics user=app addr=10.0.0.5 (7)");
        assertThat(anonymous.describe()).isEqualTo("app=\"\" user=app addr=local (1)");
        assertThat(spaced.describe()).isEqualTo("app=\"nightly \\\"big\\\" report\" user=ops addr=hidden (2)");
        assertThat(BudgetMonitor.bypassLine("db:5432", 10, List.of(job, spaced, anonymous))).isEqualTo(
                "bypass: 10 connections not through Sluice: app=analytics user=app addr=10.0.0.5 (7), "
                        + "app=\"nightly \\\"big\\\" report\" user=ops addr=hidden (2), app=\"\" user=app addr=local (1); "
                        + "server=db:5432");
        assertThat(BudgetMonitor.bypassLine("db:5432", 1, List.of(anonymous)))
                .startsWith("bypass: 1 connection not through Sluice: ");
    }

    @Test
    void snapshotSaysHowStaleItIs() {
        Instant read = Instant.parse("2025-02-27T13:15:00Z");
        Instant failed = read.plusSeconds(12);
        ServerCapacity c = new ServerCapacity(100, 3, 0, 7, 1, 5);
        BudgetSnapshot s = new BudgetSnapshot("db:5432", c, List.of(), 40, true, "17.6", read,
                "Connection to db:5432 refused (SQLSTATE 08001)", failed);
        assertThat(s.isKnown()).isTrue();
        assertThat(s.isStale()).isTrue();
        assertThat(s.budget()).hasValue(84);
        assertThat(s.excess(90)).isEqualTo(6);
        assertThat(s.describe(failed.plusSeconds(3))).isEqualTo("db:5432: budget 84 = max_connections 100 - "
                + "superuser_reserved 3 - reserved 0 - bypassing 7 - monitor 1 - headroom 5 (stale: read 15s ago); "
                + "last check failed 3s ago: Connection to db:5432 refused (SQLSTATE 08001)");

        BudgetSnapshot none = BudgetSnapshot.initial("db:5432");
        assertThat(none.isKnown()).isFalse();
        assertThat(none.budget()).isEmpty();
        assertThat(none.excess(500)).isZero();
        assertThat(none.describe(read)).isEqualTo("db:5432: budget unknown");
    }
}
