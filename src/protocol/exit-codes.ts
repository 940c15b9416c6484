// Exit codes of `ocfleet daemon run` that other code acts on: the client starting a daemon (a lost
// start race is fine), and the service units (systemd's RestartPreventExitStatus=).

/** Another daemon already owns the state directory. */
export const EXIT_ALREADY_RUNNING = 3;
