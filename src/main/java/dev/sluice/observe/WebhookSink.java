package dev.sluice.observe;

import io.prometheus.metrics.core.metrics.Counter;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

// POSTs each fired and resolved alert to [alerts] webhook, as Sluice's JSON or as a Slack-style text message.
/**
 * Never blocks the caller: alerts go into a bounded queue (when it is full the alert is dropped, counted
 * and logged) and one daemon thread delivers them in order. A failed delivery (connection error, timeout,
 * 5xx, 408, 429) is retried with exponential backoff, 1 s doubling up to 16 s, six attempts in all; a 4xx
 * answer means the receiver rejects the payload, so it is not retried.
 */
final class WebhookSink implements AlertSink {
    private static final Logger log = LoggerFactory.getLogger(WebhookSink.class);
    private static final int QUEUE = 256;
    private static final int ATTEMPTS = 6;

    private final URI uri;
    private final boolean slack;
    private final java.util.function.Supplier<String> instanceName;
    private String instance;
    private final Counter deliveries;
    private final BlockingQueue<Alert> queue = new ArrayBlockingQueue<>(QUEUE);
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER).build();
    private final Thread thread;
    private volatile boolean closed;
    private boolean dropping;

    /**
     * @param instance   names this Sluice in the payload (host and listen port); asked on the sender thread,
     *                   since looking up the host name may block
     * @param deliveries counter with one label, outcome = delivered | failed | dropped
     */
    WebhookSink(URI uri, String format, java.util.function.Supplier<String> instance, Counter deliveries) {
        this.uri = uri;
        this.slack = format.equals("slack");
        this.instanceName = instance;
        this.deliveries = deliveries;
        this.thread = new Thread(this::run, "sluice-webhook");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void send(Alert alert) {
        if (queue.offer(alert)) {
            dropping = false;
            return;
        }
        deliveries.labelValues("dropped").inc();
        if (!dropping) {
            dropping = true;
            log.warn("webhook {}: {} alerts are waiting to be delivered; dropping {} (and any more until it catches up)",
                    uri, QUEUE, alert.key());
        }
    }

    private void run() {
        while (!closed || !queue.isEmpty()) {
            Alert a;
            try {
                a = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (a != null) {
                deliver(a);
            }
        }
    }

    private void deliver(Alert a) {
        if (instance == null) {
            instance = instanceName.get();
        }
        String body = slack ? Json.write(Map.of("text", slackText(a))) : Json.write(payload(a, instance));
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").header("User-Agent", "sluice")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        long backoff = 1000;
        String last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
                int code = r.statusCode();
                if (code / 100 == 2) {
                    deliveries.labelValues("delivered").inc();
                    if (attempt > 1) {
                        log.info("webhook {}: delivered {} after {} attempts", uri, a.key(), attempt);
                    }
                    return;
                }
                last = "HTTP " + code;
                if (code / 100 == 4 && code != 408 && code != 429) {
                    break; // the receiver rejects this payload: retrying would not help
                }
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (attempt < ATTEMPTS && !closed) {
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException e) {
                    return;
                }
                backoff = Math.min(backoff * 2, 16_000);
            }
        }
        deliveries.labelValues("failed").inc();
        log.warn("webhook {}: could not deliver {} ({}): {}", uri, a.key(), a.firing() ? "firing" : "resolved", last);
    }

    /** Sluice's JSON payload for one alert (also what the dashboard shows). */
    static Map<String, Object> payload(Alert a, String instance) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", a.firing() ? "firing" : "resolved");
        m.put("alertname", a.name());
        m.put("severity", a.severity().label());
        m.put("labels", a.labels());
        m.put("summary", a.summary());
        m.put("culprit", a.culprit());
        m.put("values", a.values());
        m.put("startsAt", a.startsAt());
        m.put("endsAt", a.endsAt());
        m.put("instance", instance);
        return m;
    }

    static String slackText(Alert a) {
        String icon = !a.firing() ? ":white_check_mark:" : a.severity() == Alert.Severity.CRITICAL ? ":red_circle:"
                : ":warning:";
        return icon + " " + a.describe();
    }

    @Override
    public void close() {
        closed = true;
        try {
            thread.join(2000); // a moment to deliver what is queued; it is a daemon thread either way
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        thread.interrupt();
    }
}
