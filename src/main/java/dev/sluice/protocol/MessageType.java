package dev.sluice.protocol;

/**
 * The type bytes of PostgreSQL v3 protocol messages, named as in the protocol documentation
 * ("Message Formats"). Frontend = client to server, backend = server to client.
 */
public final class MessageType {
    private MessageType() {}

    // Frontend messages
    public static final byte BIND = 'B';
    public static final byte CLOSE = 'C';
    public static final byte COPY_DATA = 'd';
    public static final byte COPY_DONE = 'c';
    public static final byte COPY_FAIL = 'f';
    public static final byte DESCRIBE = 'D';
    public static final byte EXECUTE = 'E';
    public static final byte FLUSH = 'H';
    public static final byte FUNCTION_CALL = 'F';
    public static final byte PARSE = 'P';
    /** PasswordMessage, SASLInitialResponse, SASLResponse, GSSResponse all share 'p'. */
    public static final byte PASSWORD_MESSAGE = 'p';
    public static final byte QUERY = 'Q';
    public static final byte SYNC = 'S';
    public static final byte TERMINATE = 'X';

    // Backend messages
    public static final byte AUTHENTICATION = 'R';
    public static final byte BACKEND_KEY_DATA = 'K';
    public static final byte BIND_COMPLETE = '2';
    public static final byte CLOSE_COMPLETE = '3';
    public static final byte COMMAND_COMPLETE = 'C';
    public static final byte COPY_IN_RESPONSE = 'G';
    public static final byte COPY_OUT_RESPONSE = 'H';
    public static final byte COPY_BOTH_RESPONSE = 'W';
    public static final byte DATA_ROW = 'D';
    public static final byte EMPTY_QUERY_RESPONSE = 'I';
    public static final byte ERROR_RESPONSE = 'E';
    public static final byte FUNCTION_CALL_RESPONSE = 'V';
    public static final byte NEGOTIATE_PROTOCOL_VERSION = 'v';
    public static final byte NO_DATA = 'n';
    public static final byte NOTICE_RESPONSE = 'N';
    public static final byte NOTIFICATION_RESPONSE = 'A';
    public static final byte PARAMETER_DESCRIPTION = 't';
    public static final byte PARAMETER_STATUS = 'S';
    public static final byte PARSE_COMPLETE = '1';
    public static final byte PORTAL_SUSPENDED = 's';
    public static final byte READY_FOR_QUERY = 'Z';
    public static final byte ROW_DESCRIPTION = 'T';

    // Authentication request codes (the int32 after 'R')
    public static final int AUTH_OK = 0;
    public static final int AUTH_CLEARTEXT_PASSWORD = 3;
    public static final int AUTH_MD5_PASSWORD = 5;
    public static final int AUTH_GSS = 7;
    public static final int AUTH_SSPI = 9;
    public static final int AUTH_SASL = 10;
    public static final int AUTH_SASL_CONTINUE = 11;
    public static final int AUTH_SASL_FINAL = 12;

    // Codes of the untyped packets a client may open a connection with
    public static final int PROTOCOL_3_0 = 196608;
    public static final int CANCEL_REQUEST_CODE = 80877102;
    public static final int SSL_REQUEST_CODE = 80877103;
    public static final int GSSENC_REQUEST_CODE = 80877104;

    /** A printable name for logs, e.g. "Query('Q')". */
    public static String frontendName(byte type) {
        return switch (type) {
            case BIND -> "Bind";
            case CLOSE -> "Close";
            case COPY_DATA -> "CopyData";
            case COPY_DONE -> "CopyDone";
            case COPY_FAIL -> "CopyFail";
            case DESCRIBE -> "Describe";
            case EXECUTE -> "Execute";
            case FLUSH -> "Flush";
            case FUNCTION_CALL -> "FunctionCall";
            case PARSE -> "Parse";
            case PASSWORD_MESSAGE -> "PasswordMessage";
            case QUERY -> "Query";
            case SYNC -> "Sync";
            case TERMINATE -> "Terminate";
            default -> "unknown";
        } + "('" + (char) type + "')";
    }
}
