// The analytics job of the 2025-02-27 incident, as deployed: every task opens a new connection and
// never closes it. `sluice audit` fails it:
//
//   java -cp postgresql.jar examples/audit/AnalyticsJob.java            (connects to $JDBC_DATABASE_URL)
//   sluice audit -- java -cp postgresql.jar examples/audit/AnalyticsJob.java
//
// Arguments: [tasks] (default 10). The fixed version is AnalyticsJobFixed.java.
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;

public class AnalyticsJob {
    public static void main(String[] args) throws Exception {
        int tasks = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        String url = System.getenv().getOrDefault("JDBC_DATABASE_URL", "jdbc:postgresql://127.0.0.1:5432/postgres");
        Properties props = new Properties();
        props.setProperty("ApplicationName", "analytics-job");
        // Each task's result keeps a reference to its connection (as the incident's task objects did), so
        // nothing, not even pgjdbc's cleaner of unreachable connections, closes them before the job ends.
        java.util.List<Connection> taskResults = new java.util.ArrayList<>();
        for (int i = 0; i < tasks; i++) {
            Connection conn = DriverManager.getConnection(url, props); // a new connection per task...
            runQuery(conn);
            taskResults.add(conn);
            // ...and never conn.close(): the bug
        }
        System.out.println("analytics: processed " + taskResults.size() + " tasks");
    }

    static void runQuery(Connection conn) throws Exception {
        try (Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_class")) {
            rs.next();
        }
    }
}
