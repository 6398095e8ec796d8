package dev.sluice.guard;

import dev.sluice.config.SluiceConfig;
import dev.sluice.config.WorkloadConfig;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The configured workloads in matching order, with "default" (configured or implicit, without limits)
 * catching every client no other workload matched.
 */
public final class Workloads {
    private final List<Workload> ordered;
    private final Workload fallback;
    /** ordered + fallback, built once: admission checks walk it on every lease. */
    private final List<Workload> all;
    private final boolean anyReserve;
    private final int topPriority;

    private Workloads(List<Workload> ordered, Workload fallback) {
        this.ordered = ordered;
        this.fallback = fallback;
        List<Workload> a = new ArrayList<>(ordered);
        a.add(fallback);
        this.all = List.copyOf(a);
        this.anyReserve = all.stream().anyMatch(w -> w.config().reserve() > 0);
        this.topPriority = all.stream().mapToInt(w -> w.config().priority()).max().orElse(0);
    }

    public static Workloads from(SluiceConfig config) {
        List<Workload> list = new ArrayList<>();
        Workload def = null;
        for (WorkloadConfig wc : config.workloads()) {
            Workload w = new Workload(wc);
            if (wc.name().equals(WorkloadConfig.DEFAULT)) {
                def = w;
            } else {
                list.add(w);
            }
        }
        if (def == null) {
            def = new Workload(new WorkloadConfig(WorkloadConfig.DEFAULT, List.of(), 0, 0, 0, 0, 0, null, null, null,
                    null, null, "implicit"));
        }
        return new Workloads(List.copyOf(list), def);
    }

    /** First match wins; "default" catches the rest. */
    public Workload classify(String user, String database, String applicationName, InetAddress address) {
        for (Workload w : ordered) {
            if (w.config().matches(user, database, applicationName, address)) {
                return w;
            }
        }
        return fallback;
    }

    /** Every workload, "default" last. */
    public List<Workload> all() {
        return all;
    }

    /** True when any workload reserves capacity (reserve math then applies to leases). */
    public boolean anyReserve() {
        return anyReserve;
    }

    /** The highest priority of any workload: a waiter of it (below its reserve, if any) cannot be outranked. */
    public int topPriority() {
        return topPriority;
    }

    static Duration orElse(Duration d, Duration fallback) {
        return d != null ? d : fallback;
    }
}
