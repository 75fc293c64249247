/**
 * Known guest-to-host escapes that are reachable only through nested virtualization, with the first
 * upstream stable release of each kernel branch that has the fix. Data, not code: the next advisory
 * is one more entry. The `kernel-advisory` check of `checkHost` and the refusal of `enableHost` read it.
 *
 * Checked on 2026-12-01 against the sources named in each entry.
 */

/**
 * One advisory: the CVEs it covers, what they allow, and where each stable branch got the fix.
 *
 * @example
 * const fixedOn61 = KERNEL_ADVISORIES[0]?.fixedIn.find((version) => version.startsWith('6.1.')); // '6.1.177'
 */
export interface KernelAdvisory {
  /** A short name to say in messages. */
  readonly name: string;
  /** Fixed together: a kernel needs all of them. */
  readonly cves: readonly string[];
  /** What a guest can do on a kernel without the fix, as the end of a sentence. */
  readonly impact: string;
  /** The day the fixed stable kernels were released (YYYY-MM-DD). */
  readonly released: string;
  /**
   * The first fixed upstream version on each stable branch. A branch newer than every branch here
   * has the fix; an older or skipped branch (end of life) never got it.
   */
  readonly fixedIn: readonly string[];
  /** Where the data comes from. */
  readonly sources: readonly string[];
}

/**
 * The advisories `checkHost` judges the running kernel against.
 *
 * @example
 * for (const advisory of KERNEL_ADVISORIES) console.log(advisory.name, advisory.cves.join(' and '));
 */
export const KERNEL_ADVISORIES: readonly KernelAdvisory[] = [
  {
    name: 'Januscape',
    cves: ['CVE-2026-53359', 'CVE-2026-46113'],
    impact: 'a guest allowed nested virtualization can escape to the host through use-after-frees in KVM/x86\'s shadow MMU',
    released: '2026-07-04',
    // On 6.18, CVE-2026-46113 was fixed already in 6.18.30; both are fixed from 6.18.38.
    fixedIn: ['7.1.3', '6.18.38', '6.12.95', '6.6.144', '6.1.177', '5.15.211', '5.10.260'],
    sources: [
      'https://nvd.nist.gov/vuln/detail/CVE-2026-53359',
      'https://nvd.nist.gov/vuln/detail/CVE-2026-46113',
      'https://www.kernel.org/ (stable releases of 2026-07-04: 7.1.3, 6.18.38, 6.12.95, 6.6.144, 6.1.177, 5.15.211, 5.10.260)',
    ],
  },
];
