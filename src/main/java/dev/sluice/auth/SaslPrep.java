package dev.sluice.auth;

import com.ongres.stringprep.Tables;
import java.text.Normalizer;
import java.util.Arrays;

// Role: password normalization exactly as PostgreSQL's pg_saslprep() does it, so our SCRAM verifiers match the server's.

/**
 * SASLprep (RFC 4013 over RFC 3454 stringprep) the way PostgreSQL applies it to SCRAM passwords,
 * including its quirks, because a verifier only matches if both sides hash the very same bytes:
 * <ul>
 *   <li>a pure-ASCII password is used unchanged (even with control characters);</li>
 *   <li>mapping: non-ASCII spaces (C.1.2) become U+0020 <em>before</em> "commonly mapped to nothing"
 *       (B.1) is applied, so U+200B, which is in both tables, becomes a space rather than
 *       disappearing (generic SASLprep libraries, including ongres', drop it);</li>
 *   <li>the prohibited/unassigned (Unicode 3.2) and bidi checks run on the mapped string before
 *       NFKC normalization, as PostgreSQL does;</li>
 *   <li>whenever SASLprep would fail (prohibited or unassigned code point, bidi violation, nothing
 *       left after mapping, or a string that is not valid Unicode), the raw password is used
 *       instead of refusing it.</li>
 * </ul>
 * The stringprep tables are the ongres stringprep library's (a dependency of scram-client); NFKC is
 * the JDK's, which may differ from PostgreSQL's Unicode version only for characters assigned after
 * Unicode 3.2, and those are refused as unassigned anyway.
 */
final class SaslPrep {

    private SaslPrep() {}

    static String prepare(String password) {
        if (password.chars().allMatch(c -> c < 0x80)) {
            return password;
        }
        if (!isValidUtf16(password)) {
            return password; // PostgreSQL: not valid UTF-8, so used as is
        }
        int[] mapped = map(password.codePoints().toArray());
        if (mapped.length == 0 || !allowed(mapped) || !bidiOk(mapped)) {
            return password;
        }
        return Normalizer.normalize(new String(mapped, 0, mapped.length), Normalizer.Form.NFKC);
    }

    private static int[] map(int[] input) {
        int[] out = new int[input.length];
        int n = 0;
        for (int cp : input) {
            if (Tables.prohibitionNonAsciiSpace(cp)) {
                out[n++] = ' ';
            } else if (!Tables.mapToNothing(cp)) {
                out[n++] = cp;
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** Prohibited output per RFC 4013 section 2.3 (tables C.1.2 to C.9), plus unassigned code points (A.1). */
    private static boolean allowed(int[] cps) {
        for (int cp : cps) {
            if (Tables.prohibitionNonAsciiSpace(cp)
                    || Tables.prohibitionAsciiControl(cp)
                    || Tables.prohibitionNonAsciiControl(cp)
                    || Tables.prohibitionPrivateUse(cp)
                    || Tables.prohibitionNonCharacterCodePoints(cp)
                    || Tables.prohibitionSurrogateCodes(cp)
                    || Tables.prohibitionInappropriatePlainText(cp)
                    || Tables.prohibitionInappropriateCanonicalRepresentation(cp)
                    || Tables.prohibitionChangeDisplayProperties(cp)
                    || Tables.prohibitionTaggingCharacters(cp)
                    || Tables.unassignedCodePoints(cp)) {
                return false;
            }
        }
        return true;
    }

    /** RFC 3454 section 6: with any right-to-left character, no left-to-right ones, and RTL at both ends. */
    private static boolean bidiOk(int[] cps) {
        boolean anyRtl = Arrays.stream(cps).anyMatch(Tables::bidirectionalPropertyRorAL);
        if (!anyRtl) {
            return true;
        }
        return Arrays.stream(cps).noneMatch(Tables::bidirectionalPropertyL)
                && Tables.bidirectionalPropertyRorAL(cps[0])
                && Tables.bidirectionalPropertyRorAL(cps[cps.length - 1]);
    }

    private static boolean isValidUtf16(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }
}
