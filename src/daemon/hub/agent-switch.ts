// The agent's link, switchable: to this daemon's own hub in process, or to a remote hub over the
// network once the machine joined one. The agent reports and serves through it without knowing which.
import type { AgentLink, AgentReport, CommandHandler } from "../agent/link.js";

export class AgentLinkSwitch implements AgentLink {
  private handler: CommandHandler | undefined;

  constructor(private current: AgentLink) {}

  use(link: AgentLink): void {
    this.current = link;
    if (this.handler) link.serve(this.handler);
  }

  report(report: AgentReport): void {
    this.current.report(report);
  }

  serve(handler: CommandHandler): void {
    this.handler = handler;
    this.current.serve(handler);
  }
}
