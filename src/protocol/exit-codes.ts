// Exit codes of `ocfleet daemon run` that other code acts on: the client starting a daemon (a lost
// start race is fine), and the service units (systemd's RestartPreventExitStatus=).

/** Another daemon already owns the state directory. */
export const EXIT_ALREADY_RUNNING = 3;

/**
 * The state file exists but is empty or not a database: it is never replaced, a person must
 * decide (sysexits' EX_CONFIG). The systemd unit does not restart on it either.
 */
export const EXIT_STATE_UNUSABLE = 78;
