package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** `sluice replay` and `sluice audit` on the command line: usage mistakes are exit 2, help is exit 0. */
class ReplayAuditCliTest {
    /** `sluice audit` turns the proxy's logging down for its process; give the other tests in this JVM theirs back. */
    @AfterEach
    void restoreLogLevels() {
        ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger("dev.sluice").setLevel(null);
    }

    @Test
    void usageMistakesExitTwo() {
        assertThat(Main.execute("audit")).isEqualTo(2); // no command
        assertThat(Main.execute("audit", "--max-idle-in-transaction", "soon", "--", "true")).isEqualTo(2);
        assertThat(Main.execute("audit", "--upstream", "mysql://db/x", "--", "true")).isEqualTo(2);
        assertThat(Main.execute("replay", "--scenario", "/nonexistent.scenario")).isEqualTo(2);
        assertThat(Main.execute("replay", "--duration", "soon")).isEqualTo(2);
        assertThat(Main.execute("replay", "--modes", "direct,haproxy")).isEqualTo(2);
        assertThat(Main.execute("replay", "--leak", "sometimes")).isEqualTo(2);
    }

    @Test
    void helpWorks() {
        assertThat(Main.execute("audit", "--help")).isZero();
        assertThat(Main.execute("replay", "--help")).isZero();
    }
}
