// Role: package overview.

/**
 * Observability: seeing the connection limit coming and saying so before users do. Once a second the
 * {@link dev.sluice.observe.Observability} thread takes a {@link dev.sluice.observe.ProxySnapshot} of the
 * proxy (read-only, through a {@link dev.sluice.observe.ProxyView}), feeds it to the
 * {@link dev.sluice.observe.AlertEngine} (built-in {@link dev.sluice.observe.AlertRules} with hysteresis;
 * sinks: the log, a {@link dev.sluice.observe.WebhookSink}) and pushes the dashboard's state to open
 * /events streams. The {@link dev.sluice.observe.StatsHttpServer} (stats_listen) serves /metrics (the
 * {@link dev.sluice.observe.ProxyCollector} plus the latency histograms of
 * {@link dev.sluice.observe.TrafficMetrics}), /healthz, /readyz (the
 * {@link dev.sluice.observe.PostgresProbe}) and the dashboard. The proxy's hot path touches this package only
 * through {@link dev.sluice.observe.ClientMetrics}: a few histogram observations per transaction.
 */
package dev.sluice.observe;
