package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/** RowDescription, DataRow and CommandComplete bytes, checked against the protocol by hand. */
class ResultTableTest {
    @Test
    void encodesTextFormatRowsWithTypeOids() {
        ResultTable t = ResultTable.of(ResultTable.Column.text("a"), ResultTable.Column.int4("n"))
                .row("x", 7)
                .row(null, 12);
        ByteBuf out = Unpooled.buffer();
        t.encode(out, "SHOW");
        String hex = ByteBufUtil.hexDump(out);
        out.release();
        String expected = ""
                // RowDescription: 'T', length 4 + 2 + 2 * (2 + 18) = 46, 2 fields
                + "54" + "0000002e" + "0002"
                // "a\0", table 0, attnum 0, type 25 (text), typlen -1, typmod -1, format 0
                + "6100" + "00000000" + "0000" + "00000019" + "ffff" + "ffffffff" + "0000"
                // "n\0", ..., type 23 (int4), typlen 4
                + "6e00" + "00000000" + "0000" + "00000017" + "0004" + "ffffffff" + "0000"
                // DataRow: 'D', length 4 + 2 + (4 + 1) * 2 = 16, 2 columns, "x", "7"
                + "44" + "00000010" + "0002" + "00000001" + "78" + "00000001" + "37"
                // DataRow: length 4 + 2 + 4 (NULL: -1, no bytes) + 4 + 2 = 16; NULL, "12"
                + "44" + "00000010" + "0002" + "ffffffff" + "00000002" + "3132"
                // CommandComplete "SHOW"
                + "43" + "00000009" + "53484f5700";
        assertThat(hex).isEqualTo(expected);
    }

    @Test
    void rowsMustMatchTheColumns() {
        ResultTable t = ResultTable.of(ResultTable.Column.text("a"));
        assertThatThrownBy(() -> t.row("x", "y")).isInstanceOf(IllegalArgumentException.class);
    }
}
