/**
 * Judging the running kernel against {@link KERNEL_ADVISORIES}. Only an upstream version number can
 * be compared: a vanilla kernel's release, or the upstream version Debian writes into `/proc/version`
 * ("... Debian 6.1.192-3 ...", while its release is an ABI name such as `6.1.0-57-amd64`). Ubuntu,
 * RHEL, SUSE and others backport fixes without changing the number: those cannot be judged here.
 */
import { KERNEL_ADVISORIES, type KernelAdvisory } from './kernel-advisories.js';

/**
 * What the kernel says about itself: `/proc/sys/kernel/osrelease`, `/proc/version` and, on Ubuntu,
 * `/proc/version_signature` (each `undefined` when missing).
 *
 * @example
 * const files: KernelFiles = { osrelease: '6.1.0-57-amd64', version: 'Linux version 6.1.0-57-amd64 ... Debian 6.1.192-3 (2026-07-20)', signature: undefined };
 */
export interface KernelFiles {
  readonly osrelease: string | undefined;
  readonly version: string | undefined;
  readonly signature: string | undefined;
}

/**
 * The running kernel: its release name and, when it can be known, its upstream version.
 *
 * @example
 * const kernel: KernelVersion = { release: '6.1.0-57-amd64', upstream: '6.1.192', distribution: 'Debian' };
 */
export interface KernelVersion {
  /** `uname -r`; `undefined` when `/proc/sys/kernel/osrelease` cannot be read. */
  readonly release: string | undefined;
  /** `MAJOR.MINOR.PATCH` upstream; `undefined` when the number does not say it (a backporting distribution). */
  readonly upstream: string | undefined;
  /** The distribution whose kernel this is, when it shows. */
  readonly distribution: string | undefined;
}

/**
 * The verdict on one kernel: `fixed` (at or past every fix), `vulnerable` (lacks a fix: `advisories`
 * names which) or `unknown` (cannot be judged: `reason` says why).
 *
 * @example
 * if (judgement.verdict === 'vulnerable') console.log(judgement.advisories.flatMap((a) => a.cves));
 */
export interface KernelJudgement {
  readonly verdict: 'fixed' | 'vulnerable' | 'unknown';
  readonly kernel: KernelVersion;
  /** The advisories whose fix the kernel lacks (`vulnerable`), or all of them otherwise. */
  readonly advisories: readonly KernelAdvisory[];
  /** For `vulnerable`: the branch has no fix at all (it reached its end of life first). */
  readonly endOfLife: boolean;
  /** For `unknown`: why, as the end of a sentence. */
  readonly reason: string | undefined;
}

/** Release names of distributions that backport fixes under an unchanged upstream number. */
const BACKPORTING: ReadonlyArray<[RegExp, string]> = [
  [/\.el\d+/, 'Red Hat Enterprise Linux (or a rebuild of it)'],
  [/\.amzn\d+/, 'Amazon Linux'],
  [/uek/, 'Oracle Linux (UEK)'],
  [/-(generic|lowlatency|aws|azure|gcp|oracle|kvm|ibm)(-\S+)?$/, 'Ubuntu'],
  [/-default$/, 'SUSE'],
];

const VERSION = /^(\d+)\.(\d+)(?:\.(\d+))?/;

function versionOf(text: string): string | undefined {
  const match = VERSION.exec(text);
  return match === null ? undefined : `${match[1]}.${match[2]}.${match[3] ?? '0'}`;
}

/**
 * Works out the upstream version of a kernel from what it says about itself.
 *
 * @example
 * kernelVersion({ osrelease: '6.1.0-57-amd64', version: 'Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org) ... Debian 6.1.192-3 (2026-07-20)', signature: undefined });
 * // { release: '6.1.0-57-amd64', upstream: '6.1.192', distribution: 'Debian' }
 */
export function kernelVersion(files: KernelFiles): KernelVersion {
  const release = files.osrelease?.trim() || undefined;
  // After the build number (`#1 SMP ...`): the compiler's own "(Debian 12.2.0-14)" or "(Ubuntu ...)"
  // comes before it and says nothing about the kernel.
  const version = files.version ?? '';
  const build = version.includes(' #') ? version.slice(version.indexOf(' #')) : '';
  const debian = / Debian (\d+\.\d+\.\d+)/.exec(build);
  if (debian !== null) return { release, upstream: debian[1], distribution: 'Debian' };
  if (files.signature !== undefined || /Ubuntu/.test(build)) return { release, upstream: undefined, distribution: 'Ubuntu' };
  if (release === undefined) return { release, upstream: undefined, distribution: undefined };
  for (const [pattern, distribution] of BACKPORTING) if (pattern.test(release)) return { release, upstream: undefined, distribution };
  // Debian's ABI name without Debian's /proc/version: its x.y.0 is not the upstream version.
  if (/^\d+\.\d+\.0-\d+-/.test(release)) return { release, upstream: undefined, distribution: 'Debian' };
  return { release, upstream: versionOf(release), distribution: undefined };
}

function parts(version: string): [number, number, number] {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  return [major, minor, patch];
}

function branchOrder(a: readonly number[], b: readonly number[]): number {
  return (a[0] ?? 0) - (b[0] ?? 0) || (a[1] ?? 0) - (b[1] ?? 0);
}

/** Whether `version` has the fix of `advisory`, and whether its branch never got one. */
function lacksFix(version: string, advisory: KernelAdvisory): { lacks: boolean; endOfLife: boolean } {
  const running = parts(version);
  const fixes = advisory.fixedIn.map(parts);
  const sameBranch = fixes.find((fix) => branchOrder(fix, running) === 0);
  if (sameBranch !== undefined) return { lacks: running[2] < sameBranch[2], endOfLife: false };
  const newest = fixes.reduce((a, b) => (branchOrder(a, b) >= 0 ? a : b));
  return branchOrder(running, newest) > 0 ? { lacks: false, endOfLife: false } : { lacks: true, endOfLife: true };
}

/**
 * Judges the kernel against the advisories (by default {@link KERNEL_ADVISORIES}).
 *
 * @example
 * judgeKernel({ osrelease: '6.1.170', version: undefined, signature: undefined }).verdict; // 'vulnerable'
 */
export function judgeKernel(files: KernelFiles, advisories: readonly KernelAdvisory[] = KERNEL_ADVISORIES): KernelJudgement {
  const kernel = kernelVersion(files);
  if (kernel.upstream === undefined) {
    let reason: string;
    if (kernel.release === undefined) reason = '/proc/sys/kernel/osrelease cannot be read';
    else if (kernel.distribution === undefined) reason = `its release ${kernel.release} carries no upstream version`;
    else reason = `${kernel.distribution} backports fixes without changing the kernel's upstream number`;
    return { verdict: 'unknown', kernel, advisories, endOfLife: false, reason };
  }
  const upstream = kernel.upstream;
  const judged = advisories.map((advisory) => ({ advisory, ...lacksFix(upstream, advisory) }));
  const lacking = judged.filter((entry) => entry.lacks);
  if (lacking.length === 0) return { verdict: 'fixed', kernel, advisories, endOfLife: false, reason: undefined };
  return { verdict: 'vulnerable', kernel, advisories: lacking.map((entry) => entry.advisory), endOfLife: lacking.some((entry) => entry.endOfLife), reason: undefined };
}

/**
 * `CVE-A and CVE-B (Name)` for the advisories of a judgement, for messages.
 *
 * @example
 * advisoryNames(KERNEL_ADVISORIES); // 'CVE-2026-53359 and CVE-2026-46113 (Januscape)'
 */
export function advisoryNames(advisories: readonly KernelAdvisory[]): string {
  return advisories
    .map((advisory) => {
      const cves = advisory.cves.length <= 1 ? (advisory.cves[0] ?? '') : `${advisory.cves.slice(0, -1).join(', ')} and ${advisory.cves[advisory.cves.length - 1] ?? ''}`;
      return `${cves} (${advisory.name})`;
    })
    .join(', ');
}

/**
 * The first fixed version on the kernel's own branch, or every fixed version when the branch has none.
 *
 * @example
 * fixedVersionsFor('6.1.170', KERNEL_ADVISORIES[0]!); // '6.1.177'
 */
export function fixedVersionsFor(upstream: string, advisory: KernelAdvisory): string {
  const running = parts(upstream);
  return advisory.fixedIn.find((fix) => branchOrder(parts(fix), running) === 0) ?? advisory.fixedIn.join(', ');
}
