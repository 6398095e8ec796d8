package dev.sluice.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;

// The [alerts] section: thresholds of Sluice's built-in alert rules, their hysteresis, and the webhook.
/**
 * Thresholds are "off" when negative ({@link #OFF}). Percentages are fractions here (80% is 0.8).
 *
 * @param budgetWarn       SluiceBudgetHigh fires at this share of the database budget in use
 * @param budgetCritical   SluiceBudgetCritical fires at this share
 * @param bypassWarn       SluiceBypassHigh fires when more connections than this bypass Sluice
 * @param shedWarn         SluiceWorkloadShedding fires at this many refusals of one workload in a minute
 * @param authFailuresWarn SluiceAuthFailures fires at this many failed client logins in a minute
 * @param fireAfter        how long a level (budget, bypass, saturation, unreachable) must hold before it fires
 * @param resolveAfter     how long a firing alert's condition must stay clear before it resolves
 * @param resolveMargin    a threshold alert clears only below threshold x (1 - margin): no flapping at the line
 * @param webhook          where alerts are POSTed as JSON; null for none
 * @param webhookFormat    "json" (Sluice's own payload) or "slack" (an incoming-webhook {@code text})
 * @param disabled         alert names switched off
 */
public record AlertsConfig(double budgetWarn, double budgetCritical, int bypassWarn, int shedWarn,
        int authFailuresWarn, Duration fireAfter, Duration resolveAfter, double resolveMargin, URI webhook,
        String webhookFormat, Set<String> disabled) {

    public static final int OFF = -1;

    /** Every built-in alert, for validating {@code disable =} and for documentation. */
    public static final List<String> ALERT_NAMES = List.of("SluiceBudgetHigh", "SluiceBudgetCritical",
            "SluiceWorkloadSaturated", "SluiceWorkloadShedding", "SluiceBreakerOpen", "SluiceLeakSuspect",
            "SluiceBypassHigh", "SluicePostgresUnreachable", "SluiceAuthFailures");

    public AlertsConfig {
        disabled = Set.copyOf(disabled);
    }

    public static AlertsConfig defaults() {
        return new AlertsConfig(0.80, 0.95, 10, 1, 20, Duration.ofSeconds(10), Duration.ofSeconds(30), 0.05,
                null, "json", Set.of());
    }

    /** False when the alert is switched off by {@code disable =} or by an "off" threshold. */
    public boolean enabled(String alert) {
        if (disabled.contains(alert)) {
            return false;
        }
        return switch (alert) {
            case "SluiceBudgetHigh" -> budgetWarn >= 0;
            case "SluiceBudgetCritical" -> budgetCritical >= 0;
            case "SluiceBypassHigh" -> bypassWarn >= 0;
            case "SluiceWorkloadShedding" -> shedWarn >= 0;
            case "SluiceAuthFailures" -> authFailuresWarn >= 0;
            default -> true;
        };
    }
}
