package dev.sluice.admin;

import dev.sluice.protocol.MessageType;
import dev.sluice.protocol.Wire;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A result set the console sends, encoded as PostgreSQL does in text format: RowDescription ('T'), one
 * DataRow ('D') per row, CommandComplete ('C'). Values are rendered with toString; null is SQL NULL.
 */
public final class ResultTable {
    /** Type OIDs from pg_type, the ones PgBouncer's console uses. */
    public static final int INT8 = 20;
    public static final int INT4 = 23;
    public static final int TEXT = 25;
    public static final int NUMERIC = 1700;

    public record Column(String name, int typeOid) {
        public static Column text(String name) {
            return new Column(name, TEXT);
        }

        public static Column int4(String name) {
            return new Column(name, INT4);
        }

        public static Column int8(String name) {
            return new Column(name, INT8);
        }

        public static Column numeric(String name) {
            return new Column(name, NUMERIC);
        }

        /** pg_type.typlen: the fixed size of the binary form, -1 for variable-length types. */
        short typeLength() {
            return switch (typeOid) {
                case INT4 -> 4;
                case INT8 -> 8;
                default -> -1;
            };
        }
    }

    private final List<Column> columns;
    private final List<Object[]> rows = new ArrayList<>();

    public ResultTable(List<Column> columns) {
        this.columns = List.copyOf(columns);
    }

    public static ResultTable of(Column... columns) {
        return new ResultTable(Arrays.asList(columns));
    }

    public ResultTable row(Object... values) {
        if (values.length != columns.size()) {
            throw new IllegalArgumentException("row has " + values.length + " values for " + columns.size() + " columns");
        }
        rows.add(values.clone());
        return this;
    }

    public List<Column> columns() {
        return columns;
    }

    public List<Object[]> rows() {
        return rows;
    }

    /** Appends RowDescription, the DataRows and CommandComplete {@code tag} to {@code out}. */
    public void encode(ByteBuf out, String tag) {
        int len = Wire.beginMessage(out, MessageType.ROW_DESCRIPTION);
        out.writeShort(columns.size());
        for (Column c : columns) {
            Wire.writeCString(out, c.name());
            out.writeInt(0);            // table OID: not a table column
            out.writeShort(0);          // attribute number
            out.writeInt(c.typeOid());
            out.writeShort(c.typeLength());
            out.writeInt(-1);           // type modifier
            out.writeShort(0);          // text format
        }
        Wire.endMessage(out, len);
        for (Object[] row : rows) {
            len = Wire.beginMessage(out, MessageType.DATA_ROW);
            out.writeShort(row.length);
            for (Object v : row) {
                if (v == null) {
                    out.writeInt(-1);
                } else {
                    byte[] bytes = String.valueOf(v).getBytes(StandardCharsets.UTF_8);
                    out.writeInt(bytes.length);
                    out.writeBytes(bytes);
                }
            }
            Wire.endMessage(out, len);
        }
        len = Wire.beginMessage(out, MessageType.COMMAND_COMPLETE);
        Wire.writeCString(out, tag);
        Wire.endMessage(out, len);
    }
}
