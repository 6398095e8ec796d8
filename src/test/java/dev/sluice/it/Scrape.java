package dev.sluice.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/** Reads Sluice's stats listener: plain GETs, and a small parser for the Prometheus text format (0.0.4). */
public final class Scrape {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** One sample line: name, labels, value. */
    public record Sample(String name, Map<String, String> labels, double value) {
        public String label(String k) {
            return labels.getOrDefault(k, "");
        }
    }

    /** All samples of one scrape, with lookups by name and labels. */
    public record Metrics(List<Sample> samples, Map<String, String> types, String text) {
        public List<Sample> named(String name) {
            return samples.stream().filter(s -> s.name().equals(name)).toList();
        }

        /** The value of the one sample with this name and these labels (others may be present); NaN if none. */
        public double value(String name, String... labelPairs) {
            Predicate<Sample> match = s -> {
                for (int i = 0; i < labelPairs.length; i += 2) {
                    if (!s.label(labelPairs[i]).equals(labelPairs[i + 1])) {
                        return false;
                    }
                }
                return true;
            };
            List<Sample> found = named(name).stream().filter(match).toList();
            return found.isEmpty() ? Double.NaN : found.stream().mapToDouble(Sample::value).sum();
        }

        public Set<String> names() {
            Set<String> out = new TreeSet<>();
            samples.forEach(s -> out.add(s.name()));
            return out;
        }
    }

    private Scrape() {
    }

    public static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    public static Metrics metrics(int port) throws IOException, InterruptedException {
        HttpResponse<String> r = get(port, "/metrics");
        if (r.statusCode() != 200) {
            throw new IOException("/metrics answered " + r.statusCode() + ": " + r.body());
        }
        return parse(r.body());
    }

    /** Parses the text exposition format: # HELP / # TYPE lines and samples "name{k="v",...} value". */
    public static Metrics parse(String text) {
        List<Sample> samples = new ArrayList<>();
        Map<String, String> types = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                String[] p = line.substring(7).split(" ");
                types.put(p[0], p[1]);
                continue;
            }
            if (line.startsWith("#")) {
                continue;
            }
            int i = 0;
            while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
                i++;
            }
            String name = line.substring(0, i);
            Map<String, String> labels = new LinkedHashMap<>();
            if (i < line.length() && line.charAt(i) == '{') {
                i++;
                while (line.charAt(i) != '}') {
                    int eq = line.indexOf('=', i);
                    String key = line.substring(i, eq).strip();
                    if (line.charAt(eq + 1) != '"') {
                        throw new IllegalArgumentException("label value not quoted: " + line);
                    }
                    StringBuilder v = new StringBuilder();
                    int j = eq + 2;
                    while (line.charAt(j) != '"') {
                        char c = line.charAt(j);
                        if (c == '\\') {
                            char n = line.charAt(++j);
                            v.append(n == 'n' ? '\n' : n);
                        } else {
                            v.append(c);
                        }
                        j++;
                    }
                    labels.put(key, v.toString());
                    i = j + 1;
                    if (line.charAt(i) == ',') {
                        i++;
                    }
                }
                i++;
            }
            String[] rest = line.substring(i).strip().split("\\s+");
            double value = switch (rest[0]) {
                case "+Inf" -> Double.POSITIVE_INFINITY;
                case "-Inf" -> Double.NEGATIVE_INFINITY;
                case "NaN" -> Double.NaN;
                default -> Double.parseDouble(rest[0]);
            };
            samples.add(new Sample(name, labels, value));
        }
        return new Metrics(samples, types, text);
    }
}
