package dev.sluice.replay;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.HdrHistogram.Histogram;

/**
 * Drives the API at a fixed rate, open loop: request i is due at start + i/rate whether or not earlier
 * ones have answered, so a slow server cannot slow the load (no coordinated omission). Latency is
 * measured from the time the request was due; each result is counted in the second it was due.
 * The request sequence comes from the scenario's seed: every mode gets the same requests.
 */
final class LoadGenerator implements AutoCloseable {
    /** What happened to the requests due in one second of the timeline. */
    static final class Second {
        int sent;
        int ok;
        int http5xx;
        int timeouts;
        int otherErrors;
        final Histogram latencyMicros = new Histogram(120_000_000L, 2);

        synchronized void record(int status, Throwable error, long micros) {
            if (error != null) {
                if (error instanceof HttpTimeoutException || error.getCause() instanceof HttpTimeoutException) {
                    timeouts++;
                } else {
                    otherErrors++;
                }
            } else if (status >= 500) {
                http5xx++;
            } else {
                ok++; // 2xx, and the API's own 4xx answers (wrong password, insufficient funds) are answers
            }
            latencyMicros.recordValue(Math.max(0, Math.min(micros, 120_000_000L)));
        }

        synchronized int errors() {
            return http5xx + timeouts + otherErrors;
        }
    }

    private final Scenario scenario;
    private final String base;
    private final Second[] seconds;
    private final HttpClient client;
    private final ExecutorService clientExecutor = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "replay-load");
        t.setDaemon(true);
        return t;
    });
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "replay-load-tick");
        t.setDaemon(true);
        return t;
    });
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Random random;
    private long startNanos;
    private volatile long index;
    private final long total;

    LoadGenerator(Scenario scenario, int apiPort) {
        this.scenario = scenario;
        this.base = "http://127.0.0.1:" + apiPort;
        int n = (int) Math.ceil(scenario.duration().toMillis() / 1000.0);
        this.seconds = new Second[n];
        for (int i = 0; i < n; i++) {
            seconds[i] = new Second();
        }
        this.total = Math.round(scenario.apiRate() * scenario.duration().toMillis() / 1000.0);
        this.random = new Random(scenario.seed());
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(clientExecutor)
                .connectTimeout(scenario.apiTimeout()).build();
    }

    /** Starts sending at {@code startNanos} (System.nanoTime), until the scenario's duration has passed. */
    void start(long startNanos) {
        this.startNanos = startNanos;
        ticker.scheduleAtFixedRate(this::sendDue, 0, 2, TimeUnit.MILLISECONDS);
    }

    private void sendDue() {
        long now = System.nanoTime();
        while (index < total) {
            long due = startNanos + Math.round(index * 1e9 / scenario.apiRate());
            if (due > now) {
                return;
            }
            send(request(), due);
            index++;
        }
    }

    private HttpRequest request() {
        int pick = random.nextInt(100);
        int account = 1 + random.nextInt(scenario.accounts());
        HttpRequest.Builder b;
        if (pick < scenario.loginPercent()) {
            b = HttpRequest.newBuilder(URI.create(base + "/login"))
                    .POST(HttpRequest.BodyPublishers.ofString("user=user" + account + "&password=pw-" + account));
        } else if (pick < scenario.loginPercent() + scenario.readPercent()) {
            b = HttpRequest.newBuilder(URI.create(base + "/accounts/" + account)).GET();
        } else {
            int to = 1 + random.nextInt(scenario.accounts());
            if (to == account) {
                to = to % scenario.accounts() + 1;
            }
            String amount = (1 + random.nextInt(2000)) / 100 + "." + String.format("%02d", random.nextInt(100));
            b = HttpRequest.newBuilder(URI.create(base + "/transfers"))
                    .POST(HttpRequest.BodyPublishers.ofString("from=" + account + "&to=" + to + "&amount=" + amount));
        }
        return b.header("Content-Type", "application/x-www-form-urlencoded").timeout(scenario.apiTimeout()).build();
    }

    private void send(HttpRequest req, long due) {
        int sec = (int) Math.min(seconds.length - 1, (due - startNanos) / 1_000_000_000L);
        Second s = seconds[sec];
        synchronized (s) {
            s.sent++;
        }
        inFlight.incrementAndGet();
        CompletableFuture<HttpResponse<Void>> f;
        try {
            f = client.sendAsync(req, HttpResponse.BodyHandlers.discarding());
        } catch (RuntimeException e) {
            s.record(0, e, (System.nanoTime() - due) / 1000);
            inFlight.decrementAndGet();
            return;
        }
        f.whenComplete((resp, err) -> {
            s.record(resp == null ? 0 : resp.statusCode(), err, (System.nanoTime() - due) / 1000);
            inFlight.decrementAndGet();
        });
    }

    /** True once every request is sent. */
    boolean allSent() {
        return index >= total;
    }

    /** Waits (at most {@code max}) for the requests still in flight to answer or time out. */
    void drain(Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }

    int inFlight() {
        return inFlight.get();
    }

    Second second(int i) {
        return seconds[i];
    }

    int secondsCount() {
        return seconds.length;
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        clientExecutor.shutdownNow();
    }
}
