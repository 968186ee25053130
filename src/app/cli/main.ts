import { CliError, FIGURE_HELP, figureCommand } from './figureCli';

const HELP = `qkscope: QK Scope from the command line

  qkscope figure [options]   render an attention figure (SVG, PNG or HTML) without a browser
  qkscope --help             this text

${FIGURE_HELP}`;

/**
 * The command line entry (bin/qkscope.mjs runs the bundle built from this file). Returns the
 * exit status: 0 done, 1 the input could not be read, 2 a mistake on the command line.
 */
export async function main(argv: string[], root: string): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(`${HELP}\n`);
    return cmd ? 0 : 2;
  }
  try {
    if (cmd !== 'figure') throw new CliError(`unknown command "${cmd}": the command is figure (qkscope --help)`);
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${FIGURE_HELP}\n`);
      return 0;
    }
    process.stdout.write(`${await figureCommand(rest, root)}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`qkscope: ${(e as Error).message}\n`);
    return e instanceof CliError ? 2 : 1;
  }
}
