package dev.sluice.guard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.guard.LeakDetector.ClientView;
import dev.sluice.guard.LeakDetector.Source;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LeakDetectorTest {
    private static final Source JOB = new Source("analytics", "analytics-job", "app", "10.0.0.5");
    private static final Source POOL = new Source("api", "api", "app", "10.0.0.6");
    private static final long IDLE = Duration.ofSeconds(60).toNanos();

    private static List<ClientView> views(Source s, int idle, int busy) {
        List<ClientView> v = new ArrayList<>();
        for (int i = 0; i < idle; i++) {
            v.add(new ClientView(s, true, IDLE, "SELECT count(*) FROM events"));
        }
        for (int i = 0; i < busy; i++) {
            v.add(new ClientView(s, false, 0, (String) null));
        }
        return v;
    }

    @Test
    void aSteadilyGrowingIdleCountIsASuspectAndAFlatPoolIsNot() {
        LeakDetector d = new LeakDetector(Duration.ofSeconds(30), 5, Duration.ofSeconds(10));
        for (int t = 0; t < 10; t++) {
            List<ClientView> all = new ArrayList<>(views(JOB, 2 + t, 0)); // one more leaked connection each second
            all.addAll(views(POOL, 10, 2));                             // a pool: 10 idle from the start, flat
            d.sample(all, t * 1000L);
        }
        assertThat(d.suspects()).hasSize(1);
        LeakDetector.Suspect s = d.suspects().get(0);
        assertThat(s.source()).isEqualTo(JOB);
        assertThat(s.idleConnections()).isEqualTo(11);
        assertThat(s.lastStatement()).isEqualTo("SELECT count(*) FROM events");
        assertThat(s.describe()).contains("app=analytics-job").contains("11 idle connections");
    }

    @Test
    void aSuspectClearsWhenItsConnectionsAreClosed() {
        LeakDetector d = new LeakDetector(Duration.ofSeconds(30), 3, Duration.ofSeconds(10));
        for (int t = 0; t < 6; t++) {
            d.sample(views(JOB, 1 + t, 0), t * 1000L);
        }
        assertThat(d.suspects()).isNotEmpty();
        d.sample(views(JOB, 1, 0), 7000L);
        assertThat(d.suspects()).isEmpty();
    }

    @Test
    void aSourceRefusedAtItsMaxClientsWithIdleConnectionsIsNamedAtOnce() {
        LeakDetector d = new LeakDetector(Duration.ofSeconds(30), 5, Duration.ofSeconds(10));
        d.sample(views(JOB, 20, 0), 0L);      // a fast leak: 20 idle at the first sample, no trend yet
        assertThat(d.suspects()).isEmpty();
        d.noteRefused(JOB, 500L);              // ... and its 21st connection was refused (max_clients)
        d.sample(views(JOB, 20, 0), 1000L);
        assertThat(d.suspects()).extracting(LeakDetector.Suspect::source).containsExactly(JOB);
    }

    @Test
    void busyOrRecentlyActiveConnectionsDoNotCount() {
        LeakDetector d = new LeakDetector(Duration.ofSeconds(30), 3, Duration.ofSeconds(10));
        for (int t = 0; t < 8; t++) {
            d.sample(views(JOB, 0, 2 + t), t * 1000L);
        }
        assertThat(d.suspects()).isEmpty();
    }
}
