package dev.sluice.observe;

// Where fired and resolved alerts go: the log (always), a webhook, whatever else is plugged in.
/**
 * Called on the observer thread; an implementation must not block (hand slow work to a thread of its own).
 */
public interface AlertSink extends AutoCloseable {

    /** An alert fired ({@link Alert#firing()}) or resolved (endsAt set). */
    void send(Alert alert);

    @Override
    default void close() {
    }
}
