/**
 * The `virt-nested` command line: flags and help only. Each command's module is imported when that
 * command runs, so `--version` and `lint` never load what `set-cpu` needs.
 */
import { Command, CommanderError, Option } from 'commander';
import { CPU_MODES } from '../cpu/modes.js';
import { NESTED_CHOICES } from '../cpu/nested.js';
import { processIo, type CliIo } from './io.js';
import { reportError } from './report-error.js';

/** The package's version: compiled into the bundle by the build, a global of jest's in the tests. */
declare const VIRT_NESTED_VERSION: string;

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const MODE_CHOICES: readonly string[] = CPU_MODES;

/**
 * commander's own errors (unknown option, missing argument…) in the one-sentence form of every other
 * error: `virt-nested: unknown option '--x'; run with --help for usage`.
 */
const outputError = (text: string, write: (s: string) => void): void => {
  write(`virt-nested: ${text.trim().replace(/^error: /, '').replace(/\.$/, '')}; run with --help for usage\n`);
};

function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('virt-nested');
  const run = (load: () => Promise<{ run: (...args: never[]) => Promise<number> }>) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const options = command.optsWithGlobals() as Record<string, unknown>;
      try {
        const mod = await load();
        const positional = command.args;
        setExit(await (mod.run as (p: string[], o: Record<string, unknown>, io: CliIo) => Promise<number>)(positional, options, io));
      } catch (error) {
        setExit(reportError(error, io, Boolean(options['debug'])));
      }
    };

  program
    .description('Turn on nested virtualization for libvirt/KVM guests, safely.')
    .version(VIRT_NESTED_VERSION, '-V, --version', 'print the version (also -v)')
    .option('--debug', 'print stack traces of errors')
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s), outputError })
    .exitOverride()
    .addHelpText('after', `
Exit codes: 0 success, 1 a check failed or a change was refused, 2 usage, input or connection error.

Examples:
  virt-nested check-host
  virt-nested set-cpu web-1 --mode host-model
  virt-nested set-cpu --file guest.xml --mode host-model --diff
  virt-nested lint templates/ --format github
  virt-nested check-guest`);

  program
    .command('set-cpu')
    .argument('[guests...]', 'guest names (libvirt domain names)')
    .summary("give guests a CPU that exposes virtualization (mode and check='partial')")
    .description([
      "Give guests a CPU that exposes virtualization: <cpu mode='MODE' check='partial'/>. Only the <cpu> element changes, and the guest must be shut off. The change is checked against libvirt's domcapabilities, backed up (mode 0600), applied with 'virsh define --validate' only if the definition did not change meanwhile, verified, and restored from the backup on failure.",
      'With --file, edits a domain XML file instead (no libvirt needed).',
      'With --shutdown, running guests are shut down gracefully (ACPI), edited, and started again if they were running before; a guest that does not power off within $VIRT_NESTED_SHUTDOWN_TIMEOUT seconds (120) is left running and reported. Without it, running guests are skipped and reported, never stopped.',
      'With --nested off, vmx and svm are disabled inside <cpu>; with --nested on, what disables them is removed (and the host\'s flag required where domcapabilities\' host-model CPU disables it). --mode defaults to host-model; with --nested alone, a guest that already has host-model or host-passthrough keeps it.',
      '--match GLOB selects guests by name, as a shell glob (with --all too: only those). Ctrl-C stops after the guest being edited; no guest is left half-done.',
    ].join('\n\n'))
    .addOption(new Option('--mode <mode>', 'CPU mode to set (default: host-model)').choices([...MODE_CHOICES]))
    .addOption(new Option('--nested <on|off>', 'enable or disable vmx/svm in the guest\'s <cpu> (default: leave them)').choices([...NESTED_CHOICES]))
    .option('-c, --connect <uri>', 'libvirt URI, as for virsh (repeatable for several hosts)', collect)
    .option('--hosts-file <file>', 'read libvirt URIs from FILE, one a line')
    .option('--all', 'every persistent guest on each host')
    .option('--match <glob>', 'guests whose name matches GLOB')
    .option('--jobs <n>', 'hosts worked on in parallel')
    .option('--shutdown', 'shut running guests down gracefully, edit, and start them again')
    .option('--dry-run', 'show what would change; change nothing')
    .option('--json', 'print the result as one JSON document')
    .option('--json-lines', 'print one JSON result a line as guests are done, then the summary')
    .option('--file <path>', 'edit a domain XML file instead of a guest (no libvirt needed)')
    .option('--write', 'with --file: write the edited XML back to the file (atomically)')
    .option('--diff', "print the unified diff of the definition (as virt-xml --print-diff); with --file, instead of the XML")
    .addHelpText('after', `
Examples:
  virt-nested set-cpu web-1
  virt-nested set-cpu web-1 --mode host-model -c qemu+ssh://root@hv1/system --dry-run --diff
  virt-nested set-cpu --all --match 'web-*' --nested off --shutdown
  virt-nested set-cpu --mode host-model -- '-odd name'     (a name starting with '-' goes after --)
  virt-nested set-cpu --file templates/web.xml --mode host-model --write
  virt-nested set-cpu --file templates/web.xml --mode host-passthrough --diff

Exit codes: 0 done or nothing to do, 1 refused (running guest, unsupported mode, changed
underneath, define failed and was rolled back), 2 usage/input error or libvirt unreachable.`)
    .action(run(() => import('./set-cpu.js')));

  program
    .command('lint')
    .argument('<paths...>', "domain XML files or directories (walked for *.xml); '-' reads standard input")
    .summary('check domain XML templates: valid, and giving their guest nested virtualization')
    .description([
      "Check domain XML templates: well-formed, valid against libvirt's RelaxNG schema, and with a <cpu> that gives the guest nested virtualization.",
      'Suppress a rule for the next line with <!-- virt-nested-disable-next-line RULE -->, or for the whole file with <!-- virt-nested-disable RULE -->.',
    ].join('\n\n'))
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'github', 'sarif']).default('text'))
    .addOption(new Option('--require-mode <mode>', 'the CPU mode templates must use').choices([...MODE_CHOICES, 'any']).default('any'))
    .option('--schema-dir <dir>', "directory holding libvirt's domain.rng", undefined)
    .option('--no-schema', 'skip validation against the RelaxNG schema')
    .option('--fix', "apply set-cpu to failing files (atomically; only <cpu> changes)")
    .addHelpText('after', `
Examples:
  virt-nested lint templates/
  virt-nested lint templates/ --format github --require-mode host-model
  virt-nested lint templates/ --format sarif > virt-nested.sarif
  virsh dumpxml web-1 | virt-nested lint -

Exit codes: 0 no errors, 1 some file has an error (an unreadable, special or undecodable file too),
2 usage error, a path that does not exist, or a directory with no *.xml in it.`)
    .action(run(() => import('./lint.js')));

  program
    .command('check-host')
    .summary('is nested virtualization on in this host, and is its kernel safe for it?')
    .description('Check this host: CPU virtualization flag, kvm_intel/kvm_amd loaded, its nested parameter, what /etc/modprobe.d sets at the next load, the running kernel against known escapes through nesting (kernel-advisory), /dev/kvm, and what libvirt offers.')
    .option('--json', 'print the report as JSON')
    .option('--root <dir>', 'check the machine under DIR (a mounted image or a chroot) instead of /')
    .option('-c, --connect <uri>', 'libvirt URI asked for domcapabilities', collect)
    .addHelpText('after', '\nExit codes: 0 nested virtualization is on, 1 it is not (or the kernel lacks the fixes of a known escape), 2 usage error.')
    .action(run(() => import('./check-host.js')));

  program
    .command('enable-host')
    .summary('turn nested virtualization on in this host, persistently')
    .description("Write 'options kvm_intel nested=1' (or kvm_amd) to /etc/modprobe.d/kvm.conf, atomically and once; with --reload, also reload the module now (refused while the kernel counts it in use). Refused on a kernel that lacks the fixes of a known escape through nesting, unless --allow-vulnerable-kernel.")
    .option('--dry-run', 'print the plan; change nothing')
    .option('--reload', 'reload the kvm module now (only when nothing holds it)')
    .option('--fix-conflicts', 'also comment out nested=0 options lines in other modprobe.d files')
    .option('--allow-vulnerable-kernel', 'enable nesting even on a kernel without the fixes of a known escape')
    .option('--json', 'print the result as JSON')
    .option('--root <dir>', 'change the machine under DIR (a mounted image or a chroot) instead of /')
    .option('-c, --connect <uri>', 'libvirt URI asked to name the guests that hold the module', collect)
    .addHelpText('after', '\nExit codes: 0 done, 1 refused (module in use, vulnerable kernel, not x86), 2 usage error or not permitted.')
    .action(run(() => import('./enable-host.js')));

  program
    .command('disable-host')
    .summary('turn nested virtualization off in this host, persistently')
    .description("Write 'options kvm_intel nested=0' (or kvm_amd) to /etc/modprobe.d/kvm.conf, atomically and once; with --reload, also reload the module now (refused while the kernel counts it in use). The way back from enable-host, and the mitigation kernel advisories give.")
    .option('--dry-run', 'print the plan; change nothing')
    .option('--reload', 'reload the kvm module now (only when nothing holds it)')
    .option('--fix-conflicts', 'also comment out nested=1 options lines in other modprobe.d files')
    .option('--json', 'print the result as JSON')
    .option('--root <dir>', 'change the machine under DIR (a mounted image or a chroot) instead of /')
    .option('-c, --connect <uri>', 'libvirt URI asked to name the guests that hold the module', collect)
    .addHelpText('after', '\nExit codes: 0 done, 1 refused (module in use, not x86) or a conflict left, 2 usage error or not permitted.')
    .action(run(() => import('./disable-host.js')));

  program
    .command('check-guest')
    .argument('[guests...]', 'running guests to ask QEMU about (from the host); none: this machine')
    .summary('does this machine (or a running guest) have vmx/svm?')
    .description([
      'Without GUEST: check the machine it runs on (vmx/svm in /proc/cpuinfo, /dev/kvm).',
      'With GUEST: ask QEMU, from the host, whether the running guest\'s vCPU has vmx/svm (virsh qemu-monitor-command, read-only; libvirt marks the guest "custom-monitor" tainted in its log).',
    ].join('\n\n'))
    .option('-c, --connect <uri>', 'libvirt URI, as for virsh (repeatable)', collect)
    .option('--hosts-file <file>', 'read libvirt URIs from FILE, one a line')
    .option('--all', 'every running guest on each host')
    .option('--match <glob>', 'running guests whose name matches GLOB')
    .option('--jobs <n>', 'hosts worked on in parallel')
    .option('--json', 'print the report as one JSON document')
    .option('--json-lines', 'with guests: print one JSON report a line as guests are checked, then the summary')
    .option('--root <dir>', 'without GUEST: check the machine under DIR (a mounted image or a chroot) instead of /')
    .addHelpText('after', '\nExit codes: 0 nested virtualization available, 1 not, 2 usage error, guest missing or libvirt unreachable.')
    .action(run(() => import('./check-guest.js')));

  program
    .command('restore')
    .argument('<guest>', 'guest name (libvirt domain name)')
    .summary('undo: define the latest (or a named) backup of a guest again')
    .description([
      "Define a guest's latest backup again (or the one named with --backup), through the same safe path as set-cpu: the guest must be shut off, the definition is replaced only if it is still the one virt-nested last wrote (unless --force), and it is defined with 'virsh define --validate', read back and verified.",
      'The definition it replaces is backed up first, so a second restore undoes the first.',
    ].join('\n\n'))
    .option('--backup <file>', 'the backup to define (default: the latest of GUEST at this URI)')
    .option('-c, --connect <uri>', 'libvirt URI, as for virsh', collect)
    .option('--force', 'restore even if the definition was changed since virt-nested wrote it')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `
Examples:
  virt-nested restore web-1
  virt-nested restore web-1 --backup /var/lib/virt-nested/backups/web-1@local-20261125T061500Z.xml

Exit codes: 0 done or nothing to do, 1 refused (guest not shut off, definition changed since
virt-nested wrote it, another tool raced the define), 2 usage error, guest or backup missing,
libvirt unreachable.`)
    .action(run(() => import('./restore.js')));

  program
    .command('backups')
    .argument('[guest]', 'only the backups of this guest')
    .summary('list the backups virt-nested wrote, per guest and host')
    .description('List the backups of guest definitions virt-nested wrote before each change (in $VIRT_NESTED_BACKUP_DIR, /var/lib/virt-nested/backups for root), per guest and host. Needs no libvirt.')
    .option('-c, --connect <uri>', 'only backups read from this libvirt URI', collect)
    .option('--json', 'print the list as JSON')
    .addHelpText('after', `
Examples:
  virt-nested backups
  virt-nested backups web-1 --json

Exit codes: 0 listed (also when there are none), 2 usage error or unreadable backup directory.`)
    .action(run(() => import('./backups.js')));

  for (const command of program.commands) {
    command.exitOverride().configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s), outputError });
  }
  return program;
}

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => { code = c; });
  if (argv.length === 0) {
    program.outputHelp();
    return 2;
  }
  // -v is the version too, as in most tools (commander takes one short flag for it)
  const args = argv[0] === '-v' ? ['--version', ...argv.slice(1)] : [...argv];
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      return 2;
    }
    return reportError(error, io, argv.includes('--debug'));
  }
  return code;
}
