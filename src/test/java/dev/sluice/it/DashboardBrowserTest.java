package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser (Debian's chromium, headless, driven through chromium-driver): it loads,
 * its numbers follow the load, and an alert appears when the budget is crossed. Screenshots are left in
 * target/dashboard-*.png for a person to look at.
 */
class DashboardBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    private static Connection as(SluiceHandle s, String app) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("ApplicationName", app);
        p.setProperty("prepareThreshold", "0");
        return s.connect("postgres", p);
    }

    private static WebDriver chromium() throws Exception {
        boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (!present) {
            String msg = "Debian's chromium and chromium-driver are not installed (" + CHROMIUM + ", " + CHROMEDRIVER
                    + "); install them with: apt-get install -y chromium chromium-driver (.ci/run does)";
            if (System.getenv("CI") != null) {
                fail(msg); // CI installs them, so there the browser test must run
            }
            Assumptions.assumeTrue(false, msg);
        }
        Path profile = Files.createTempDirectory("sluice-chromium");
        ChromeOptions o = new ChromeOptions();
        o.setBinary(CHROMIUM.toFile());
        o.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + profile, "--window-size=1440,1100");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        return new ChromeDriver(service, o);
    }

    private static void screenshot(WebDriver d, String name) throws Exception {
        File shot = ((TakesScreenshot) d).getScreenshotAs(OutputType.FILE);
        Path out = Path.of("target", "dashboard-" + name + ".png");
        Files.createDirectories(out.getParent());
        Files.copy(shot.toPath(), out, StandardCopyOption.REPLACE_EXISTING);
    }

    private static String text(WebDriver d, String id) {
        return d.findElement(By.id(id)).getText();
    }

    @Test
    void theDashboardShowsLiveNumbersAndTheBudgetAlert() throws Exception {
        WebDriver browser = chromium();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> load = new ArrayList<>();
        List<Connection> held = new ArrayList<>();
        try (SluiceHandle s = SluiceHandle.start("* = host=127.0.0.1 port=${PGPORT}", """
                auth_type = trust
                pool_mode = transaction
                default_pool_size = 5
                server_idle_timeout = 1
                stats_listen = 127.0.0.1:0
                [workloads]
                api = match=application_name:api* reserve=1 priority=10
                analytics = match=application_name:analytics* max=4 max_clients=20
                [alerts]
                fire_after = 1s
                resolve_after = 2s
                """, null)) {
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(15));
            browser.get("http://127.0.0.1:" + s.server().statsPort() + "/");
            wait.until(d -> text(d, "status").equals("OK"));
            assertThat(browser.getTitle()).isEqualTo("Sluice");
            assertThat(text(browser, "alerts")).contains("No alerts firing.");
            assertThat(text(browser, "clients-total")).isEqualTo("0");

            // load: the API runs steady transactions; the numbers on the page follow
            for (int t = 0; t < 2; t++) {
                Thread th = new Thread(() -> {
                    try (Connection c = as(s, "api-server"); Statement st = c.createStatement()) {
                        while (running.get()) {
                            st.execute("SELECT 1");
                            Thread.sleep(5);
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                th.start();
                load.add(th);
            }
            wait.until(d -> !text(d, "tps").equals("–") && Integer.parseInt(text(d, "tps")) > 20);
            wait.until(d -> text(d, "clients-total").equals("2"));
            wait.until(d -> !d.findElements(By.cssSelector("#workloads tr[data-workload='api']")).isEmpty());
            wait.until(d -> !d.findElements(By.cssSelector("#budgets .budget")).isEmpty());
            screenshot(browser, "load");

            // the job takes 4 of the database's 5 server connections and keeps them: 80%+ of the limit
            for (int i = 0; i < 4; i++) {
                Connection c = as(s, "analytics-job");
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    st.execute("SELECT 1");
                }
                held.add(c);
            }
            wait.until(d -> !d.findElements(By.cssSelector("#alerts .alert[data-name='SluiceBudgetHigh']")).isEmpty());
            wait.until(d -> text(d, "status").startsWith("WARNING") || text(d, "status").startsWith("CRITICAL"));
            String alert = browser.findElement(By.cssSelector("#alerts .alert[data-name='SluiceBudgetHigh']")).getText();
            assertThat(alert).contains("SluiceBudgetHigh").contains("of 5 server connections in use")
                    .contains("analytics");
            wait.until(d -> d.findElement(By.id("holders")).getText().contains("analytics-job"));
            String gauge = browser.findElement(By.cssSelector("#budgets .budget .gauge text.pct")).getText();
            assertThat(gauge).endsWith("%");
            assertThat(Double.parseDouble(gauge.replace("%", ""))).isGreaterThanOrEqualTo(80);
            assertThat(browser.findElement(By.cssSelector("#workloads tr[data-workload='analytics']")).getText())
                    .contains("4 / 4");
            screenshot(browser, "alert");

            // the job lets go: its servers go idle and close, the alert resolves and leaves the page
            for (Connection c : held) {
                c.close();
            }
            held.clear();
            wait.until(d -> text(d, "alerts").contains("No alerts firing."));
            wait.until(d -> text(d, "status").equals("OK"));
            assertThat(text(browser, "recent")).contains("resolved").contains("SluiceBudgetHigh");
        } finally {
            running.set(false);
            for (Thread th : load) {
                th.join(5000);
            }
            for (Connection c : held) {
                c.close();
            }
            browser.quit();
        }
    }
}
