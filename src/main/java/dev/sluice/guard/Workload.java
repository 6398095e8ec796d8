package dev.sluice.guard;

import dev.sluice.config.WorkloadConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One workload at run time: its limits and what it holds now. Client connections are counted here
 * (atomically, at login and logout); leased server connections per database are counted by the pool
 * manager under its lock.
 */
public final class Workload {
    private static final Logger log = LoggerFactory.getLogger(Workload.class);

    private final WorkloadConfig config;
    /** Null unless the workload configures breaker_failure_rate. */
    private final CircuitBreaker breaker;
    private final LongAdder shedByBreaker = new LongAdder();
    private final AtomicInteger clients = new AtomicInteger();
    private final AtomicInteger queued = new AtomicInteger();
    private final LongAdder refusedMaxQueue = new LongAdder();
    /** Leased server connections per database; guarded by the pool manager's lock. */
    private final Map<String, Integer> inUseByDatabase = new HashMap<>();
    private int inUse;
    private final LongAdder refusedMaxClients = new LongAdder();
    private final LongAdder refusedQueueTimeout = new LongAdder();

    public Workload(WorkloadConfig config) {
        this.config = config;
        WorkloadConfig.Breaker b = config.breaker();
        if (b == null) {
            breaker = null;
        } else {
            // Count-based window over admissions: a lease granted is a success, a queue timeout a failure.
            breaker = CircuitBreaker.of("workload-" + config.name(), CircuitBreakerConfig.custom()
                    .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                    .slidingWindowSize(b.window())
                    .minimumNumberOfCalls(b.minCalls())
                    .failureRateThreshold(b.failureRate())
                    .waitDurationInOpenState(b.openFor())
                    .permittedNumberOfCallsInHalfOpenState(Math.max(1, Math.min(3, b.minCalls())))
                    .automaticTransitionFromOpenToHalfOpenEnabled(false)
                    .recordExceptions(Exception.class)
                    .build());
            breaker.getEventPublisher().onStateTransition(e -> log.warn(
                    "workload \"{}\" circuit breaker: {} (failure rate {}%)", config.name(),
                    e.getStateTransition(), Math.round(breaker.getMetrics().getFailureRate())));
        }
    }

    /** The workload's circuit breaker, or null when it has none. */
    public CircuitBreaker breaker() {
        return breaker;
    }

    /** "closed", "open", "half_open" or "none", for logs and the console. */
    public String breakerState() {
        return breaker == null ? "none" : breaker.getState().name().toLowerCase(java.util.Locale.ROOT);
    }

    public void countShedByBreaker() {
        shedByBreaker.increment();
    }

    public long shedByBreaker() {
        return shedByBreaker.sum();
    }

    public String name() {
        return config.name();
    }

    public WorkloadConfig config() {
        return config;
    }

    public int clients() {
        return clients.get();
    }

    /** Counts a new client connection, unless max_clients is reached (then false, and nothing counted). */
    public boolean tryAddClient() {
        int max = config.maxClients();
        while (true) {
            int n = clients.get();
            if (max > 0 && n >= max) {
                refusedMaxClients.increment();
                return false;
            }
            if (clients.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    public void removeClient() {
        clients.decrementAndGet();
    }

    /** Counts a client starting to wait for a server; false (nothing counted) when max_queue is reached. */
    public boolean tryQueue() {
        int max = config.maxQueue();
        while (true) {
            int n = queued.get();
            if (max > 0 && n >= max) {
                refusedMaxQueue.increment();
                return false;
            }
            if (queued.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    public void dequeue() {
        queued.decrementAndGet();
    }

    /** Clients of this workload waiting for a server connection now. */
    public int queued() {
        return queued.get();
    }

    public long refusedMaxQueue() {
        return refusedMaxQueue.sum();
    }

    public void countQueueTimeout() {
        refusedQueueTimeout.increment();
    }

    public long refusedMaxClients() {
        return refusedMaxClients.sum();
    }

    public long refusedQueueTimeout() {
        return refusedQueueTimeout.sum();
    }

    // ---- under the pool manager's lock ----

    public int inUse() {
        return inUse;
    }

    public int inUse(String database) {
        return inUseByDatabase.getOrDefault(database, 0);
    }

    public void leased(String database) {
        inUse++;
        inUseByDatabase.merge(database, 1, Integer::sum);
    }

    public void returned(String database) {
        inUse--;
        inUseByDatabase.merge(database, -1, Integer::sum);
    }

    @Override
    public String toString() {
        return name();
    }
}
