package dev.sluice.admin;

import dev.sluice.admin.AdminCommand.Disable;
import dev.sluice.admin.AdminCommand.Enable;
import dev.sluice.admin.AdminCommand.Kill;
import dev.sluice.admin.AdminCommand.KillClient;
import dev.sluice.admin.AdminCommand.Pause;
import dev.sluice.admin.AdminCommand.Reconnect;
import dev.sluice.admin.AdminCommand.Reload;
import dev.sluice.admin.AdminCommand.Resume;
import dev.sluice.admin.AdminCommand.SetSetting;
import dev.sluice.admin.AdminCommand.Show;
import dev.sluice.admin.AdminCommand.Shutdown;
import dev.sluice.admin.AdminCommand.WaitClose;
import dev.sluice.backend.ServerConnection;
import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigProblem;
import dev.sluice.config.SettingsTable;
import dev.sluice.frontend.ClientSession;
import dev.sluice.pool.PoolManager;
import dev.sluice.pool.PoolSnapshot;
import dev.sluice.protocol.SqlState;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console commands that change the running proxy: PAUSE, RESUME, DISABLE, ENABLE, RECONNECT, KILL,
 * KILL_CLIENT, WAIT_CLOSE, RELOAD, SHUTDOWN and SET. Each is logged with the admin user who ran it.
 */
final class ControlCommands {
    private static final Logger log = LoggerFactory.getLogger(ControlCommands.class);

    /** Session parameters drivers SET on any connection; the console accepts them so drivers can connect. */
    private static final Set<String> SESSION_PARAMETERS = Set.of("application_name", "extra_float_digits",
            "client_encoding", "datestyle", "timezone", "intervalstyle");

    /**
     * What to answer: CommandComplete {@code tag}, after {@code notices}; when {@code waitUntil} is set the
     * answer is held until it returns true (PAUSE, WAIT_CLOSE); {@code afterReply} runs once it is sent.
     */
    record Outcome(String tag, List<String> notices, BooleanSupplier waitUntil, Runnable afterReply) {
        static Outcome done(String tag) {
            return new Outcome(tag, List.of(), null, null);
        }
    }

    private ControlCommands() {}

    /**
     * KILL and KILL_CLIENT answer once the sessions they killed are gone (each is closed on its own event loop,
     * after its ErrorResponse was written): an administrator, or a script, that sees "KILL" can count on those
     * clients being disconnected, not about to be.
     */
    private static <T> BooleanSupplier gone(List<T> killed, Collection<T> live) {
        return () -> killed.stream().noneMatch(live::contains);
    }

    static Outcome run(AdminCommand cmd, ConsoleContext ctx, AdminSession self) throws AdminException {
        PoolManager pools = ctx.pools();
        String who = self.user();
        if (cmd instanceof Pause p) {
            String db = existingDatabase(ctx, p.database(), "pause");
            if (db == null ? pools.isPausedAll() : pools.isPaused(db)) {
                throw new AdminException(SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE, "sluice: "
                        + (db == null ? "the pooler" : "database \"" + db + "\"") + " is already paused");
            }
            log.info("admin {}: PAUSE {}", who, db == null ? "(all)" : db);
            pools.pause(db);
            return new Outcome("PAUSE", List.of(), () -> pools.serverCount(db) == 0, null);
        }
        if (cmd instanceof Resume r) {
            String db = existingDatabase(ctx, r.database(), "resume");
            if (!pools.resume(db)) {
                throw new AdminException(SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE, db == null
                        ? "pooler is not paused/suspended"
                        : "sluice: database \"" + db + "\" is not paused" + (pools.isPausedAll()
                                ? " by itself: the whole pooler is; RESUME without a database name" : ""));
            }
            log.info("admin {}: RESUME {}", who, db == null ? "(all)" : db);
            return Outcome.done("RESUME");
        }
        if (cmd instanceof Disable d) {
            String db = existingDatabase(ctx, d.database(), "disable");
            log.info("admin {}: DISABLE {}", who, db);
            pools.disable(db);
            return Outcome.done("DISABLE");
        }
        if (cmd instanceof Enable e) {
            String db = existingDatabase(ctx, e.database(), "enable");
            log.info("admin {}: ENABLE {}", who, db);
            pools.enable(db);
            return Outcome.done("ENABLE");
        }
        if (cmd instanceof Reconnect r) {
            String db = existingDatabase(ctx, r.database(), "reconnect");
            log.info("admin {}: RECONNECT {}", who, db == null ? "(all)" : db);
            pools.reconnect(db);
            return Outcome.done("RECONNECT");
        }
        if (cmd instanceof Kill k) {
            String db = existingDatabase(ctx, k.database(), "kill");
            log.info("admin {}: KILL {}", who, db == null ? "(all)" : db);
            // As PgBouncer: the database stays paused until RESUME, so new clients wait instead of reconnecting.
            pools.pause(db);
            List<ClientSession> killed = new ArrayList<>();
            for (ClientSession c : ctx.clients()) {
                if (db == null || db.equals(c.database())) {
                    c.kill("sluice: connection killed by an administrator (KILL " + (db == null ? "" : db) + ")");
                    killed.add(c);
                }
            }
            return new Outcome("KILL", List.of(), gone(killed, ctx.clients()), null);
        }
        if (cmd instanceof KillClient k) {
            for (ClientSession c : ctx.clients()) {
                if (c.id() == k.id()) {
                    log.info("admin {}: KILL_CLIENT {} ({}@{})", who, k.id(), c.user(), c.database());
                    c.kill("sluice: connection killed by an administrator (KILL_CLIENT " + k.id() + ")");
                    return new Outcome("KILL_CLIENT", List.of(), gone(List.of(c), ctx.clients()), null);
                }
            }
            for (AdminSession a : ctx.consoleSessions()) {
                if (a.id() == k.id() && a != self) {
                    log.info("admin {}: KILL_CLIENT {} (console session of {})", who, k.id(), a.user());
                    a.kill("sluice: connection killed by an administrator (KILL_CLIENT " + k.id() + ")");
                    return new Outcome("KILL_CLIENT", List.of(), gone(List.of(a), ctx.consoleSessions()), null);
                }
            }
            throw new AdminException(SqlState.UNDEFINED_OBJECT, "sluice: no client with id " + k.id()
                    + (self.id() == k.id() ? " other than this console session" : "") + " (see SHOW CLIENTS)");
        }
        if (cmd instanceof WaitClose w) {
            String db = existingDatabase(ctx, w.database(), "wait for");
            return new Outcome("WAIT_CLOSE", List.of(), () -> noServerNeedsClose(pools, db), null);
        }
        if (cmd instanceof Reload) {
            log.info("admin {}: RELOAD", who);
            ReloadResult r = ctx.reload();
            if (!r.applied()) {
                throw new AdminException(SqlState.INVALID_PARAMETER_VALUE, "sluice: the config file has "
                        + r.errors().size() + " error(s); the running configuration is kept: "
                        + String.join("; ", r.errors()));
            }
            return new Outcome("RELOAD", r.notes(), null, null);
        }
        if (cmd instanceof Shutdown) {
            log.info("admin {}: SHUTDOWN", who);
            return new Outcome("SHUTDOWN", List.of(), null, ctx::shutdown);
        }
        if (cmd instanceof SetSetting set) {
            return set(set, ctx, self);
        }
        if (cmd instanceof Show) {
            throw new IllegalArgumentException("SHOW is not a control command");
        }
        throw new IllegalStateException("unhandled console command " + cmd);
    }

    /** A SET of a session parameter (what drivers send while connecting): allowed to stats users too. */
    static boolean isSessionSetting(AdminCommand cmd) {
        return cmd instanceof SetSetting set && SESSION_PARAMETERS.contains(set.key());
    }

    private static Outcome set(SetSetting set, ConsoleContext ctx, AdminSession self) throws AdminException {
        String key = set.key();
        if (SESSION_PARAMETERS.contains(key)) {
            // Not a pooler setting: a driver configuring its session (pgjdbc, lib/pq). Accept, like a server would.
            if (key.equals("client_encoding") && !set.value().replace("-", "").equalsIgnoreCase("utf8")) {
                throw new AdminException(SqlState.INVALID_PARAMETER_VALUE,
                        "sluice: the admin console speaks UTF8 only; client_encoding " + set.value() + " is not supported");
            }
            if (key.equals("application_name")) {
                self.applicationName(set.value());
            }
            return Outcome.done("SET");
        }
        SettingsTable.Change change;
        try {
            change = SettingsTable.set(ctx.config().settings(), key, set.value());
        } catch (ConfigException e) {
            String msg = e.problems().isEmpty() ? e.getMessage() : e.problems().get(0).message();
            throw new AdminException(SettingsTable.isKnown(key) ? SqlState.INVALID_PARAMETER_VALUE
                    : SqlState.UNDEFINED_OBJECT, "sluice: SET " + key + ": " + msg);
        }
        log.info("admin {}: SET {} = '{}'", self.user(), key, set.value());
        ctx.applySettings(change.settings());
        return new Outcome("SET", change.warnings(), null, null);
    }

    /**
     * The database a command names, checked to exist (a [databases] entry or a pool); null stays null
     * ("every database"). The console's own database cannot be the target.
     */
    private static String existingDatabase(ConsoleContext ctx, String db, String verb) throws AdminException {
        if (db == null) {
            return null;
        }
        if (db.equals(ShowCommands.CONSOLE_DB) || db.equals("sluice")) {
            throw new AdminException(SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE, "cannot " + verb + " admin db: " + db);
        }
        if (ctx.config().databases().containsKey(db)) {
            return db;
        }
        for (PoolSnapshot p : ctx.pools().snapshot()) {
            if (p.key().database().equals(db)) {
                return db;
            }
        }
        throw new AdminException(SqlState.INVALID_CATALOG_NAME, "no such database: " + db);
    }

    private static boolean noServerNeedsClose(PoolManager pools, String db) {
        for (PoolSnapshot p : pools.snapshot()) {
            if (db != null && !p.key().database().equals(db)) {
                continue;
            }
            List<ServerConnection> all = new ArrayList<>(p.active());
            all.addAll(p.idle());
            for (ServerConnection s : all) {
                if (s.closeNeeded()) {
                    return false;
                }
            }
        }
        return true;
    }
}
