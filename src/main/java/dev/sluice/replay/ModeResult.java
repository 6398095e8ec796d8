package dev.sluice.replay;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One mode's replay: the per-second series and the summary numbers the report compares. Times
 * ({@code firstAlertS}, {@code leakAttributedS}, {@code dbFullS}) are seconds after the job's deploy,
 * null when it never happened.
 */
final class ModeResult {
    /** One second of the timeline, [t-1, t). Latencies are null when no request of that second answered. */
    record Second(int t, int apiRequests, int apiOk, int api5xx, int apiTimeouts, int apiOtherErrors, Double p50Ms,
                  Double p99Ms, int dbConnections, Map<String, Integer> dbByApplication, long jobTasks,
                  long jobFailures, int jobConnectionsHeld, Integer sluiceJobClients, Long sluiceJobRefusals,
                  Boolean leakSuspect) {
        int apiErrors() {
            return api5xx + apiTimeouts + apiOtherErrors;
        }

        Map<String, Object> toJson() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("t", t);
            j.put("api_requests", apiRequests);
            j.put("api_ok", apiOk);
            j.put("api_500", api5xx);
            j.put("api_timeouts", apiTimeouts);
            j.put("api_other_errors", apiOtherErrors);
            j.put("p50_ms", p50Ms);
            j.put("p99_ms", p99Ms);
            j.put("db_connections", dbConnections);
            j.put("db_by_application", dbByApplication);
            j.put("job_tasks", jobTasks);
            j.put("job_failures", jobFailures);
            j.put("job_connections_held", jobConnectionsHeld);
            if (sluiceJobClients != null) {
                j.put("sluice_job_clients", sluiceJobClients);
                j.put("sluice_job_refusals", sluiceJobRefusals);
                j.put("leak_suspect", leakSuspect);
            }
            return j;
        }
    }

    final String mode;
    final String description;
    final List<Second> series = new ArrayList<>();
    final List<String> notes = new ArrayList<>();
    long apiRequests;
    long apiOk;
    long api5xx;
    long apiTimeouts;
    long apiOtherErrors;
    double p50Ms;
    double p99Ms;
    double maxMs;
    /** Availability and p99 of the requests due before the deploy: the system's healthy state on this machine. */
    Double baselineAvailability;
    Double baselineP99Ms;
    /** Availability of requests due between the deploy and the fix (or the end). */
    Double incidentAvailability;
    /** When the database's ordinary connection slots were first all taken; null if never. */
    Double dbFullS;
    /** Availability of requests due from dbFullS until the fix (or the end); null if the database never filled. */
    Double availabilityAfterFull;
    int peakDbConnections;
    long jobTasks;
    long jobFailures;
    int jobPeakHeld;
    String jobLastError;
    Double firstAlertS;
    Double firstRefusalS;
    String firstRefusalDetail;
    /** Alerts Sluice fired after the deploy: at_s, name, severity, key, summary, culprit. */
    final List<Map<String, Object>> alerts = new ArrayList<>();
    String firstAlertMeaning;
    String firstAlertDetail;
    Double leakAttributedS;
    String leakAttribution;
    /** Seconds after the deploy from which the API stayed healthy after the fix; null if it never was down, or never recovered. */
    Double recoveredS;
    /** Some second after the deploy answered fewer than 99% of its requests. */
    boolean apiWentDown;

    ModeResult(String mode, String description) {
        this.mode = mode;
        this.description = description;
    }

    long apiErrors() {
        return api5xx + apiTimeouts + apiOtherErrors;
    }

    double availability() {
        return apiRequests == 0 ? 0 : (double) apiOk / apiRequests;
    }

    Map<String, Object> toJson() {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("ran", true);
        j.put("description", description);
        j.put("api_requests", apiRequests);
        j.put("api_ok", apiOk);
        j.put("api_errors", apiErrors());
        j.put("api_500", api5xx);
        j.put("api_timeouts", apiTimeouts);
        j.put("api_other_errors", apiOtherErrors);
        j.put("api_availability", round(availability(), 5));
        j.put("baseline_availability", baselineAvailability == null ? null : round(baselineAvailability, 5));
        j.put("baseline_p99_ms", baselineP99Ms == null ? null : round(baselineP99Ms, 2));
        j.put("incident_availability", incidentAvailability == null ? null : round(incidentAvailability, 5));
        j.put("db_full_s", dbFullS);
        j.put("availability_after_db_full", availabilityAfterFull == null ? null : round(availabilityAfterFull, 5));
        j.put("api_went_down", apiWentDown);
        j.put("recovered_s", recoveredS);
        j.put("p50_ms", round(p50Ms, 2));
        j.put("p99_ms", round(p99Ms, 2));
        j.put("max_ms", round(maxMs, 2));
        j.put("peak_db_connections", peakDbConnections);
        j.put("job_tasks", jobTasks);
        j.put("job_failures", jobFailures);
        j.put("job_peak_connections_held", jobPeakHeld);
        j.put("job_last_error", jobLastError);
        j.put("first_alert_s", firstAlertS);
        j.put("first_alert_meaning", firstAlertMeaning);
        j.put("first_alert_detail", firstAlertDetail);
        j.put("first_refusal_s", firstRefusalS);
        j.put("first_refusal_detail", firstRefusalDetail);
        j.put("alerts", alerts);
        j.put("leak_attributed_s", leakAttributedS);
        j.put("leak_attribution", leakAttribution);
        j.put("notes", notes);
        List<Object> s = new ArrayList<>();
        for (Second x : series) {
            s.add(x.toJson());
        }
        j.put("series", s);
        return j;
    }

    static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
}
