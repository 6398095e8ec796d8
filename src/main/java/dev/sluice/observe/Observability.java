package dev.sluice.observe;

import dev.sluice.config.AlertsConfig;
import dev.sluice.config.StatsListen;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

// The observer: metrics registry, alert engine, PostgreSQL probe, stats listener and dashboard, wired together.
/**
 * Owned by SluiceServer. Once a second, on a thread of its own ("sluice-observe"), it reads a snapshot of
 * the proxy, evaluates the alert rules and pushes the dashboard's state to open /events streams. The
 * alert engine and the probe run whether or not stats_listen is set (alerts go to the log at least);
 * traffic counting ({@link ClientMetrics}) and the HTTP listener only when it is.
 */
public final class Observability implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Observability.class);
    private static final Duration TICK = Duration.ofSeconds(1);
    private static final Duration PROBE_INTERVAL = Duration.ofSeconds(5);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);

    private final ProxyView view;
    private final StatsListen listen;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final TrafficMetrics traffic;
    private final PostgresProbe probe;
    private final AlertEngine alerts;
    private final Snapshotter snapshotter;
    private final DashboardState dashboard;
    private StatsHttpServer http;
    private ScheduledExecutorService ticker;
    private volatile int statsPort = -1;

    /**
     * @param proxyPort the client listener's port once bound, to name this instance in webhook payloads
     */
    public Observability(ProxyView view, IntSupplier proxyPort) {
        this.view = view;
        // stats_listen and [alerts] are read once, at start (RELOAD does not rebind or re-tune them)
        this.listen = view.pools().config().settings().statsListen();
        AlertsConfig cfg = view.pools().config().alerts();
        this.traffic = listen == null ? null : new TrafficMetrics(registry);
        this.probe = new PostgresProbe(() -> view.pools().config(), PROBE_INTERVAL, PROBE_TIMEOUT);
        this.alerts = new AlertEngine(cfg);
        this.snapshotter = new Snapshotter(view, traffic, probe);
        this.dashboard = new DashboardState(cfg);
        if (cfg.webhook() != null) {
            Counter deliveries = Counter.builder().name("sluice_alert_webhook_deliveries_total")
                    .help("Alert notifications sent to the [alerts] webhook, by outcome (delivered, failed after "
                            + "retries, dropped because the queue was full)")
                    .labelNames("outcome").withoutExemplars().register(registry);
            for (String outcome : List.of("delivered", "failed", "dropped")) {
                deliveries.labelValues(outcome); // present from the start, at 0
            }
            alerts.addSink(new WebhookSink(cfg.webhook(), cfg.webhookFormat(), () -> instanceName(proxyPort),
                    deliveries));
        }
        registry.register(new ProxyCollector(snapshotter::take, alerts));
    }

    /** Binds the stats listener (when configured) and starts the probe and the once-a-second evaluation. */
    public synchronized void start() throws InterruptedException {
        if (ticker != null) {
            return;
        }
        if (listen != null) {
            http = new StatsHttpServer(listen, registry, this::readiness, dashboard::json, this::alertsJson);
            statsPort = http.start();
        }
        probe.start();
        ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-observe");
            t.setDaemon(true);
            return t;
        });
        ticker.scheduleAtFixedRate(this::tick, 0, TICK.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Client sessions count their traffic into these; {@link ClientMetrics#OFF} when stats_listen is off. */
    public ClientMetrics newClientMetrics() {
        return traffic == null ? ClientMetrics.OFF : new ClientMetrics(traffic);
    }

    public AlertEngine alerts() {
        return alerts;
    }

    /** The stats listener's port; -1 when it is off or its default address was taken. */
    public int statsPort() {
        return statsPort;
    }

    /** One evaluation now (tests, and the ticker). */
    void tick() {
        try {
            ProxySnapshot s = snapshotter.take();
            alerts.evaluate(s);
            String state = dashboard.update(s, alerts.firing(), alerts.history());
            if (http != null) {
                http.publish("state", state);
            }
        } catch (RuntimeException e) {
            log.error("observer tick failed", e);
        }
    }

    /** Ready when every PostgreSQL server of [databases] answered the latest probe, and not shutting down. */
    private StatsHttpServer.Readiness readiness() {
        if (view.shuttingDown().getAsBoolean()) {
            return new StatsHttpServer.Readiness(false, "not ready: shutting down\n");
        }
        if (!probe.complete()) {
            return new StatsHttpServer.Readiness(false, "not ready: PostgreSQL not probed yet\n");
        }
        StringBuilder body = new StringBuilder();
        boolean ready = true;
        for (PostgresProbe.Result r : probe.results()) {
            ready &= r.reachable();
            body.append(r.reachable() ? "ok " : "unreachable ").append(r.server()).append(" (databases ")
                    .append(String.join(", ", r.databases())).append(')')
                    .append(r.reachable() ? "" : ": " + r.error()).append('\n');
        }
        return new StatsHttpServer.Readiness(ready, (ready ? "ready\n" : "not ready\n") + body);
    }

    private String alertsJson() {
        Map<String, Object> out = new LinkedHashMap<>();
        List<Object> firing = new ArrayList<>();
        for (Alert a : alerts.firing()) {
            firing.add(WebhookSink.payload(a, null));
        }
        out.put("firing", firing);
        List<Object> events = new ArrayList<>();
        for (AlertEngine.Event e : alerts.history()) {
            events.add(WebhookSink.payload(e.alert(), null));
        }
        out.put("history", events);
        return Json.write(out);
    }

    /** For `sluice check-config`: where metrics and the dashboard are served, and how alerts are set. */
    public static String describe(dev.sluice.config.SluiceConfig config) {
        StatsListen l = config.settings().statsListen();
        AlertsConfig a = config.alerts();
        StringBuilder out = new StringBuilder("Metrics and alerts:\n");
        out.append("  stats_listen: ").append(l == null ? "off (no /metrics, /healthz, /readyz or dashboard)"
                : "http://" + l + "/ (/metrics, /healthz, /readyz, dashboard; no authentication)").append('\n');
        out.append("  alerts: budget warn ").append(a.budgetWarn() < 0 ? "off" : AlertRules.pct(a.budgetWarn()))
                .append(", critical ").append(a.budgetCritical() < 0 ? "off" : AlertRules.pct(a.budgetCritical()))
                .append("; fire after ").append(human(a.fireAfter())).append(", resolve after ")
                .append(human(a.resolveAfter())).append(" clear (below the threshold x ")
                .append(1 - a.resolveMargin()).append(')');
        if (!a.disabled().isEmpty()) {
            out.append("; disabled: ").append(String.join(", ", new java.util.TreeSet<>(a.disabled())));
        }
        out.append('\n').append("  sent to: the log").append(a.webhook() == null ? ""
                : " and " + a.webhook().getScheme() + "://" + a.webhook().getHost()
                        + (a.webhook().getPort() > 0 ? ":" + a.webhook().getPort() : "") + "/... (" + a.webhookFormat() + ")");
        if (config.databases().values().stream().noneMatch(d -> d.effectiveMaxDbConnectionsAuto(config.settings()))) {
            out.append('\n').append("  note: no max_db_connections = auto: budget alerts measure against max_db_connections "
                    + "or the pools' sizes, not what PostgreSQL has left");
        }
        return out.toString();
    }

    private static String human(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    private static String instanceName(IntSupplier proxyPort) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "localhost";
        }
        return "sluice@" + host + ":" + proxyPort.getAsInt();
    }

    @Override
    public synchronized void close() {
        if (ticker != null) {
            ticker.shutdownNow();
            try {
                ticker.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        probe.close();
        alerts.close();
        if (http != null) {
            http.close();
        }
    }
}
