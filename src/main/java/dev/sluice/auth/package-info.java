// Role: package overview.

/**
 * Password authentication for Sluice, without any networking: parsing stored secrets
 * ({@link dev.sluice.auth.StoredSecret}), PostgreSQL's md5 scheme ({@link dev.sluice.auth.Md5Auth}),
 * and both sides of SCRAM-SHA-256: {@link dev.sluice.auth.ScramServerExchange} when a client logs in
 * to Sluice, {@link dev.sluice.auth.ScramClientExchange} when Sluice logs in to PostgreSQL. Failures
 * a client may see are {@link dev.sluice.auth.AuthException}s; misuse by the caller is an
 * IllegalArgumentException or IllegalStateException.
 */
package dev.sluice.auth;
