package dev.sluice.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

// Mutable scratch copy of Settings while [pgbouncer] lines are applied one by one; used only by the loader.
final class SettingsBuilder {

    String listenAddr;
    int listenPort;
    AuthType authType;
    Path authFile;
    PoolMode poolMode;
    int maxClientConn;
    int defaultPoolSize;
    int minPoolSize;
    int reservePoolSize;
    Duration reservePoolTimeout;
    int maxDbConnections;
    int maxUserConnections;
    Duration serverLifetime;
    Duration serverIdleTimeout;
    Duration serverConnectTimeout;
    Duration serverLoginRetry;
    Duration queryWaitTimeout;
    Duration queryTimeout;
    Duration clientIdleTimeout;
    Duration clientLoginTimeout;
    Duration idleTransactionTimeout;
    String serverResetQuery;
    boolean serverResetQueryAlways;
    String serverCheckQuery;
    Duration serverCheckDelay;
    List<String> adminUsers;
    List<String> statsUsers;
    boolean logConnections;
    boolean logDisconnections;
    List<String> ignoreStartupParameters;
    int maxClientMessageSize;
    int maxStartupPacketSize;
    long maxServerMessageSize;
    int maxPreparedStatements;
    Duration leakIdleAge;
    int leakMinConnections;
    Duration leakWindow;
    boolean maxDbConnectionsAuto;
    BudgetHeadroom budgetHeadroom;
    Duration budgetCheckInterval;
    String budgetUser;
    String budgetPassword;
    String unixSocketDir;
    Duration statsPeriod;
    Duration shutdownWaitTimeout;
    int workerThreads;
    StatsListen statsListen;
    TlsSettings tls;
    boolean pinOnSessionState;
    LoginGuardSettings loginGuard;
    TcpKeepalive tcpKeepalive;

    SettingsBuilder(Settings base) {
        listenAddr = base.listenAddr();
        listenPort = base.listenPort();
        authType = base.authType();
        authFile = base.authFile();
        poolMode = base.poolMode();
        maxClientConn = base.maxClientConn();
        defaultPoolSize = base.defaultPoolSize();
        minPoolSize = base.minPoolSize();
        reservePoolSize = base.reservePoolSize();
        reservePoolTimeout = base.reservePoolTimeout();
        maxDbConnections = base.maxDbConnections();
        maxUserConnections = base.maxUserConnections();
        serverLifetime = base.serverLifetime();
        serverIdleTimeout = base.serverIdleTimeout();
        serverConnectTimeout = base.serverConnectTimeout();
        serverLoginRetry = base.serverLoginRetry();
        queryWaitTimeout = base.queryWaitTimeout();
        queryTimeout = base.queryTimeout();
        clientIdleTimeout = base.clientIdleTimeout();
        clientLoginTimeout = base.clientLoginTimeout();
        idleTransactionTimeout = base.idleTransactionTimeout();
        serverResetQuery = base.serverResetQuery();
        serverResetQueryAlways = base.serverResetQueryAlways();
        serverCheckQuery = base.serverCheckQuery();
        serverCheckDelay = base.serverCheckDelay();
        adminUsers = base.adminUsers();
        statsUsers = base.statsUsers();
        logConnections = base.logConnections();
        logDisconnections = base.logDisconnections();
        ignoreStartupParameters = base.ignoreStartupParameters();
        maxClientMessageSize = base.maxClientMessageSize();
        maxStartupPacketSize = base.maxStartupPacketSize();
        maxServerMessageSize = base.maxServerMessageSize();
        maxPreparedStatements = base.maxPreparedStatements();
        leakIdleAge = base.leakIdleAge();
        leakMinConnections = base.leakMinConnections();
        leakWindow = base.leakWindow();
        maxDbConnectionsAuto = base.maxDbConnectionsAuto();
        budgetHeadroom = base.budgetHeadroom();
        budgetCheckInterval = base.budgetCheckInterval();
        budgetUser = base.budgetUser();
        budgetPassword = base.budgetPassword();
        unixSocketDir = base.unixSocketDir();
        statsPeriod = base.statsPeriod();
        shutdownWaitTimeout = base.shutdownWaitTimeout();
        workerThreads = base.workerThreads();
        statsListen = base.statsListen();
        tls = base.tls();
        pinOnSessionState = base.pinOnSessionState();
        loginGuard = base.loginGuard();
        tcpKeepalive = base.tcpKeepalive();
    }

    Settings build() {
        return new Settings(listenAddr, listenPort, authType, authFile, poolMode,
                maxClientConn, defaultPoolSize, minPoolSize, reservePoolSize, reservePoolTimeout,
                maxDbConnections, maxUserConnections, serverLifetime, serverIdleTimeout,
                serverConnectTimeout, serverLoginRetry, queryWaitTimeout, queryTimeout,
                clientIdleTimeout, clientLoginTimeout, idleTransactionTimeout,
                serverResetQuery, serverResetQueryAlways, serverCheckQuery, serverCheckDelay,
                adminUsers, statsUsers, logConnections, logDisconnections,
                ignoreStartupParameters, maxClientMessageSize, maxStartupPacketSize, maxServerMessageSize,
                maxPreparedStatements, leakIdleAge, leakMinConnections, leakWindow, maxDbConnectionsAuto,
                budgetHeadroom, budgetCheckInterval, budgetUser, budgetPassword, unixSocketDir,
                statsPeriod, shutdownWaitTimeout, statsListen, workerThreads, tls,
                pinOnSessionState, loginGuard, tcpKeepalive);
    }
}
