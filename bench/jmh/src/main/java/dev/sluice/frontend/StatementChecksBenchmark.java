package dev.sluice.frontend;

import dev.sluice.bench.Bursts;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The checks transaction mode runs on every Query/Parse and CommandComplete (ClientSession's
 * onClientMessage and noteSessionSetting, and the reply path): does the text leave session state behind
 * (SessionState.textMayChangeSession), is it a SET/RESET to carry (LocalStatements.startsWithSetOrReset),
 * does the tag say the session changed (SessionState.changesSession). In the same package because these
 * classes are package-private.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled") // as the shipped runtime runs
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class StatementChecksBenchmark {
    /** pgbench's select-only statement, and tpcb-like's longest UPDATE (it contains SET, not at the start). */
    @Param({"select", "update"})
    public String statement;

    private ByteBuf query;
    private ByteBuf commandComplete;

    @Setup
    public void setUp() {
        if (statement.equals("select")) {
            query = Bursts.query(Bursts.SELECT);
            commandComplete = Bursts.commandComplete("SELECT 1");
        } else {
            query = Bursts.query("UPDATE pgbench_accounts SET abalance = abalance + -3641 WHERE aid = 48211;");
            commandComplete = Bursts.commandComplete("UPDATE 1");
        }
    }

    @TearDown
    public void tearDown() {
        query.release();
        commandComplete.release();
    }

    /** What a Query costs before it is forwarded: both text checks, as ClientSession runs them. */
    @Benchmark
    public boolean queryChecks() {
        boolean dirty = SessionState.textMayChangeSession(query);
        return LocalStatements.startsWithSetOrReset(query, query.readerIndex() + 5) | dirty;
    }

    @Benchmark
    public boolean textMayChangeSession() {
        return SessionState.textMayChangeSession(query);
    }

    @Benchmark
    public boolean commandCompleteCheck() {
        return SessionState.changesSession(commandComplete);
    }
}
