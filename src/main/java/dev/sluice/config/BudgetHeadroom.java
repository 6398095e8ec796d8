package dev.sluice.config;

import java.util.Locale;

// budget_headroom: how many of the server's connection slots the database budget leaves free.
/**
 * Either a percentage of max_connections ("5%", rounded up, so any non-zero percentage keeps at least one
 * slot free) or an absolute number of connections ("3").
 *
 * @param amount  a percentage from 0 to 100 when {@code percent}, else a number of connections
 */
public record BudgetHeadroom(int amount, boolean percent) {

    /** 5% of max_connections: 5 slots of 100, 1 of 30. */
    public static final BudgetHeadroom DEFAULT = new BudgetHeadroom(5, true);

    public BudgetHeadroom {
        if (amount < 0 || (percent && amount > 100)) {
            throw new IllegalArgumentException("headroom out of range: " + amount + (percent ? "%" : ""));
        }
    }

    /** The headroom in connections for a server with {@code maxConnections}. */
    public int connections(int maxConnections) {
        if (!percent) {
            return amount;
        }
        return (int) ((Math.max(0L, maxConnections) * amount + 99) / 100);
    }

    /** As written in the config: "5%" or "3". */
    @Override
    public String toString() {
        return amount + (percent ? "%" : "");
    }

    /** Parses "5%", "5 %" or "3"; the message of the exception says what is expected. */
    static BudgetHeadroom parse(String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        if (v.endsWith("%")) {
            String number = v.substring(0, v.length() - 1).strip();
            if (number.contains(".")) {
                throw new IllegalArgumentException(Values.quoted(value.strip())
                        + " is not a whole percentage; write e.g. 5% (rounded up to whole connections)");
            }
            return new BudgetHeadroom(Values.intInRange(number, 0, 100), true);
        }
        try {
            return new BudgetHeadroom(Values.nonNegativeInt(v), false);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage()
                    + "; write a percentage of max_connections (5%) or a number of connections (3)");
        }
    }
}
