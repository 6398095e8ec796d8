// The analytics job after the 2025-02-27 hotfix: each task closes its connection in `finally`, as the
// postmortem's fix does. `sluice audit` passes it:
//
//   sluice audit -- java -cp postgresql.jar examples/audit/AnalyticsJobFixed.java
//
// Arguments: [tasks] (default 10).
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;

public class AnalyticsJobFixed {
    public static void main(String[] args) throws Exception {
        int tasks = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        String url = System.getenv().getOrDefault("JDBC_DATABASE_URL", "jdbc:postgresql://127.0.0.1:5432/postgres");
        Properties props = new Properties();
        props.setProperty("ApplicationName", "analytics-job");
        for (int i = 0; i < tasks; i++) {
            Connection conn = DriverManager.getConnection(url, props);
            try {
                runQuery(conn);
            } finally {
                conn.close(); // ensuring the connection is properly closed
            }
        }
        System.out.println("analytics: processed " + tasks + " tasks");
    }

    static void runQuery(Connection conn) throws Exception {
        try (Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_class")) {
            rs.next();
        }
    }
}
