// Exit codes of `ocfleet daemon run` that mean "restarting will not help": the service units
// (systemd's RestartPreventExitStatus=, launchd through OCFLEET_SERVICE) and the client that
// starts the daemon read them.

/** The state file exists but is empty or not a database: it is never replaced; a person must decide (sysexits EX_CONFIG). */
export const EXIT_STATE_UNUSABLE = 78;
