package dev.sluice.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** An admin console connection through pgjdbc in simple-query mode, with results as lists of rows. */
final class Console implements AutoCloseable {
    /** One SHOW result: its columns (name and type name as pgjdbc reports it) and rows by column name. */
    record Result(List<String> columns, List<String> types, List<Map<String, String>> rows) {
        Map<String, String> row(String column, String value) {
            return rows.stream().filter(r -> value.equals(r.get(column))).findFirst()
                    .orElseThrow(() -> new AssertionError("no row with " + column + " = " + value + " in " + rows));
        }

        String type(String column) {
            return types.get(columns.indexOf(column));
        }
    }

    final Connection connection;

    private Console(Connection connection) {
        this.connection = connection;
    }

    static Console open(SluiceHandle s, String user, String password) throws SQLException {
        return open(s.port(), user, password);
    }

    static Console open(int port, String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (password != null) {
            p.setProperty("password", password);
        }
        p.setProperty("preferQueryMode", "simple");
        p.setProperty("ApplicationName", "console-test");
        return new Console(DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/pgbouncer", p));
    }

    Result query(String sql) throws SQLException {
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            List<String> cols = new ArrayList<>();
            List<String> types = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                cols.add(md.getColumnName(i));
                types.add(md.getColumnTypeName(i));
            }
            List<Map<String, String>> rows = new ArrayList<>();
            while (rs.next()) {
                Map<String, String> row = new LinkedHashMap<>();
                for (int i = 1; i <= cols.size(); i++) {
                    row.put(cols.get(i - 1), rs.getString(i));
                }
                rows.add(row);
            }
            return new Result(cols, types, rows);
        }
    }

    /** Runs a command that returns no rows (PAUSE, SET, ...). */
    void run(String sql) throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.execute(sql);
        }
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
