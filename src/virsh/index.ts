/**
 * The virsh adapter: the only place that runs virsh. One long-lived virsh per connection
 * ({@link openVirsh}, {@link withVirsh}), typed commands on the session, typed errors.
 */

export { openVirsh, withVirsh, DEFAULT_VIRSH_TIMEOUT_MS } from './session.js';
export type { OpenVirshOptions, VirshSession } from './session.js';
export type { VirshOutput, VirshRunOptions, VirshRunner } from './runner.js';
export type { SessionCommands } from './session-commands.js';
export { hostModelCpu, listedCpuModes } from './domcapabilities-xml.js';
export type { DomcapabilitiesOptions } from './domcapabilities.js';
export type { DefineOptions, DomainState, DumpxmlOptions, ListGuestsOptions } from './domain-commands.js';
export type { DestroyOptions, ShutdownOptions, UndefineOptions } from './lifecycle-commands.js';
export { quoteVirshArgument } from './command-line.js';
export { eachHost, DEFAULT_JOBS, type HostFailure, type EachHostOptions } from './each-host.js';
export { selectGuests, type GuestSelection } from './select-guests.js';
